package commands_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// routedDurableConfig takes durable commands and re-checks ownership often.
func routedDurableConfig() commands.Config {
	cfg := durableConfig()
	cfg.OwnershipCheck = 20 * time.Millisecond
	return cfg
}

// waitDelivered waits until the durable consumer made at least n
// deliveries in all (generously: a loaded machine slows the round trips).
func (e *env) waitDelivered(t *testing.T, n uint64) {
	t.Helper()
	testwait.Until(t, 6*waitFor, func() error {
		cons, err := e.js.Consumer(context.Background(), commands.DefaultStreamName, "lpbridge_commands_"+account)
		if err != nil {
			return err
		}
		info, err := cons.Info(context.Background())
		if err != nil {
			return err
		}
		if info.Delivered.Consumer < n {
			return fmt.Errorf("%d deliveries, want %d (ack pending %d, redelivered %d, waiting pulls %d, pending %d)",
				info.Delivered.Consumer, n, info.NumAckPending, info.NumRedelivered, info.NumWaiting, info.NumPending)
		}
		return nil
	})
}

// noFailedResults fails the test for every failed command.result so far.
func (e *env) noFailedResults(t *testing.T) {
	t.Helper()
	for _, m := range e.results.all() {
		if d := e.decodeResult(t, m); !d.OK {
			t.Errorf("command %s failed: %+v (a standby ran it?)", d.CommandID, d.Error)
		}
	}
}

// TestDurableRoutedToOwner: a replica standing by is handed every durable
// command first, more often than the retry budget allows, and hands each
// back; once the owner runs, every command runs there once.
func TestDurableRoutedToOwner(t *testing.T) {
	e := newEnv(t)
	chatID := e.chattingChat(t, agentOne, skillA)
	cfg := routedDurableConfig()
	owner := newReplica(e.sessions, agentOne, agentTwo)
	standby := newReplica(e.sessions)
	e.startWith(t, cfg, standby)

	const n = 10
	text := func(i int) string { return "durable routed line " + strconv.Itoa(i) }
	for i := range n {
		e.publishDurable(t, agentOne, commands.ChatSend, map[string]any{"id": "routed-" + strconv.Itoa(i), "chatId": chatID, "text": text(i)}, "")
	}
	// More deliveries than n commands × MaxDeliver: had they counted as
	// tries, at least one command would have been dead-lettered.
	e.waitDelivered(t, n*uint64(cfg.MaxDeliver)+1)
	e.startWith(t, cfg, owner)

	for i := range n {
		if res := e.result(t, "routed-"+strconv.Itoa(i)); !res.OK {
			t.Errorf("routed-%d failed: %+v", i, res.Error)
		}
	}
	if lines := e.agentLines(t, chatID); len(lines) != n {
		t.Errorf("visitor sees %d agent lines, want %d", len(lines), n)
	}
	for i := range n {
		if c := e.countText(t, chatID, text(i)); c != 1 {
			t.Errorf("%q posted %d times, want once", text(i), c)
		}
	}
	if d := e.dead.all(); len(d) != 0 {
		t.Errorf("%d dead letters, want none (first: %s)", len(d), d[0].Header.Get(commands.HeaderDLQReason))
	}
	e.noFailedResults(t)
	e.waitStreamEmpty(t)
}

// TestDurableRoutedTransientDeadLetters: deliveries skipped by a standby do
// not count, and a command failing on its owner is tried exactly MaxDeliver
// times, then dead-lettered.
func TestDurableRoutedTransientDeadLetters(t *testing.T) {
	e := newEnv(t)
	chatID := e.chattingChat(t, agentOne, skillA)
	cfg := routedDurableConfig()
	owner := newReplica(e.sessions, agentOne, agentTwo)
	standby := newReplica(e.sessions)
	e.startWith(t, cfg, standby)

	// Each try posts once (a 5xx on a send is not retried by lpchat): exactly MaxDeliver tries fail.
	e.sim.InjectFault(lpsim.Fault{PathContains: "/events", Method: "POST", Status: 503, Count: cfg.MaxDeliver})
	e.publishDurable(t, agentOne, commands.ChatSend, map[string]any{"id": "doomed", "chatId": chatID, "text": "doomed line"}, "")
	e.waitDelivered(t, uint64(cfg.MaxDeliver)+1)
	e.startWith(t, cfg, owner)

	res := e.result(t, "doomed")
	if res.OK || res.Error == nil || res.Error.Code != string(commands.CodeUpstreamError) {
		t.Fatalf("command.result = %+v, want upstream_error", res)
	}
	dl := e.deadLetter(t, commands.DeadLetterSubject("lp", account, agentOne, commands.ChatSend))
	if got := dl.Header.Get(commands.HeaderDLQDeliveries); got != strconv.Itoa(cfg.MaxDeliver) {
		t.Errorf("dead letter after %s tries, want %d", got, cfg.MaxDeliver)
	}
	if got := dl.Header.Get(commands.HeaderDLQCode); got != string(commands.CodeUpstreamError) {
		t.Errorf("dead letter code %q, want upstream_error", got)
	}
	// Fewer tries would have left faults behind, more would have posted it.
	okResult[map[string]any](t, e.request(t, agentOne, commands.ChatSend, map[string]any{"id": "after", "chatId": chatID, "text": "after"}))
	if c := e.countText(t, chatID, "doomed line"); c != 0 {
		t.Errorf("the dead-lettered line was posted %d times", c)
	}
	e.waitStreamEmpty(t)
}
