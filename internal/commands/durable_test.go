package commands_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

func durableConfig() commands.Config {
	cfg := errorConfig()
	cfg.Durable = true
	return cfg
}

// publishDurable stores a command in the durable stream (with a
// Nats-Msg-Id of its own, so copies with the same command id are kept).
func (e *env) publishDurable(t testing.TB, agent, command string, body any, msgID string) {
	t.Helper()
	m := &nats.Msg{Subject: commands.DurableSubject("lp", account, agent, command), Data: toJSON(t, body), Header: nats.Header{}}
	if msgID != "" {
		m.Header.Set(nats.MsgIdHdr, msgID)
	}
	if _, err := e.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatalf("publish durable %s: %v", command, err)
	}
}

// ensureCommandStream makes the stream exist before any bridge runs, as
// an operator would (a consumer creates it too).
func (e *env) ensureCommandStream(t testing.TB) {
	t.Helper()
	stop := e.start(t, durableConfig())
	stop()
	e.waitNoPullers(t)
}

// waitNoPullers waits until the server dropped the pull requests of a
// stopped consumer: a command published before that may be handed to the
// gone subscriber and come back only after the ack wait.
func (e *env) waitNoPullers(t testing.TB) {
	t.Helper()
	testwait.Until(t, waitFor, func() error {
		cons, err := e.js.Consumer(context.Background(), commands.DefaultStreamName, "lpbridge_commands_"+account)
		if err != nil {
			return err
		}
		info, err := cons.Info(context.Background())
		if err != nil {
			return err
		}
		if info.NumWaiting != 0 {
			return fmt.Errorf("%d pull requests still waiting", info.NumWaiting)
		}
		return nil
	})
}

// Commands published while no bridge runs wait in the stream and run, in
// order, once one starts.
func TestDurableCommandsWaitForBridge(t *testing.T) {
	e := newEnv(t)
	e.ensureCommandStream(t)
	chatID := e.chattingChat(t, agentOne, skillA)
	for i := range 3 {
		e.publishDurable(t, agentOne, commands.ChatSend, map[string]any{"id": "line-" + strconv.Itoa(i), "chatId": chatID, "text": "line " + strconv.Itoa(i)}, "")
	}
	e.publishDurable(t, agentOne, commands.AgentStatus, map[string]any{"id": "away", "status": "Away"}, "")
	e.publishDurable(t, agentOne, commands.ChatInfo, map[string]any{"id": "info", "chatId": chatID}, "")

	e.start(t, durableConfig())
	for _, id := range []string{"line-0", "line-1", "line-2", "away", "info"} {
		if res := e.result(t, id); !res.OK {
			t.Errorf("durable %s failed: %+v", id, res.Error)
		}
	}
	lines := e.agentLines(t, chatID)
	if len(lines) != 3 {
		t.Fatalf("visitor sees %d agent lines, want 3: %+v", len(lines), lines)
	}
	for i, l := range lines {
		if l.Text != "line "+strconv.Itoa(i) {
			t.Errorf("line %d is %q: durable commands ran out of order", i, l.Text)
		}
	}
	if a, _ := e.sim.AgentAvailability(account, "bot.one"); a != "Away" {
		t.Errorf("agent.status Away by the durable stream: the service says %s", a)
	}
	if n := len(e.dead.all()); n != 0 {
		t.Errorf("%d dead letters, want none", n)
	}
}

func TestDurableEveryCommand(t *testing.T) {
	e := newEnv(t)
	e.start(t, durableConfig())
	chatID := e.ringingChat(t, agentOne, skillA, lpsim.VisitorSpec{Name: "Ada"})
	info, err := e.sessions.get(agentTwo).Info(context.Background())
	must(t, err)
	steps := []struct {
		agent, command string
		body           map[string]any
	}{
		{agentOne, commands.ChatAccept, map[string]any{}},
		{agentOne, commands.ChatSend, map[string]any{"chatId": chatID, "text": "hello"}},
		{agentOne, commands.ChatTyping, map[string]any{"chatId": chatID, "typing": true}},
		{agentOne, commands.ChatInfo, map[string]any{"chatId": chatID}},
		{agentOne, commands.ChatVisitor, map[string]any{"chatId": chatID}},
		{agentOne, commands.ChatTransferSkills, map[string]any{"chatId": chatID}},
		{agentOne, commands.AgentInfo, map[string]any{}},
		{agentOne, commands.AgentAvailable, map[string]any{}},
		{agentOne, commands.AgentAvailableSlots, map[string]any{"skill": "Support"}},
		{agentOne, commands.AgentStatus, map[string]any{"status": "Occupied"}},
		{agentOne, commands.ChatTransfer, map[string]any{"chatId": chatID, "agentId": info.ID}},
	}
	for i, s := range steps {
		id := fmt.Sprintf("durable-%d-%s", i, s.command)
		s.body["id"] = id
		e.publishDurable(t, s.agent, s.command, s.body, "")
		res := e.result(t, id)
		if !res.OK || res.Command != s.command || len(res.Result) == 0 {
			t.Fatalf("durable %s: %+v", s.command, res)
		}
	}
	if _, err := e.sessions.get(agentTwo).Accept(context.Background()); err != nil {
		t.Fatalf("the durably transferred chat does not ring at bot.two: %v", err)
	}
	e.publishDurable(t, agentTwo, commands.ChatClose, map[string]any{"id": "durable-close", "chatId": chatID}, "")
	if res := e.result(t, "durable-close"); !res.OK {
		t.Fatalf("durable chat.close: %+v", res.Error)
	}
	if st, _, _ := e.sim.ChatState(account, chatID); st != "ended" {
		t.Errorf("chat is %s after a durable chat.close", st)
	}
	if e.countText(t, chatID, "hello") != 1 {
		t.Error("the durable chat.send line is not in the chat once")
	}
}

func TestDurableErrorCodes(t *testing.T) {
	cfg := durableConfig()
	for _, tc := range errorCases() {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.start(t, cfg)
			chatID := e.chattingChat(t, agentOne, skillA)
			e.lastChat = chatID
			if tc.setup != nil {
				tc.setup(t, e)
			}
			id := "durable-err-" + tc.name
			e.publishDurable(t, tc.agent, tc.command, tc.body(chatID), id)

			res := e.result(t, id)
			if res.OK || res.Error == nil || res.Error.Code != string(tc.code) {
				t.Fatalf("command.result = %+v, want error %s", res, tc.code)
			}
			dlq := commands.DeadLetterSubject("lp", account, tc.agent, tc.command)
			switch {
			case tc.code.Transient():
				// Retried with backoff, then dead-lettered after the last try.
				dl := e.deadLetter(t, dlq)
				if got := dl.Header.Get(commands.HeaderDLQDeliveries); got != strconv.Itoa(cfg.MaxDeliver) {
					t.Errorf("dead letter after %s deliveries, want %d", got, cfg.MaxDeliver)
				}
				if dl.Header.Get(commands.HeaderDLQCode) != string(tc.code) {
					t.Errorf("dead letter code %q, want %s", dl.Header.Get(commands.HeaderDLQCode), tc.code)
				}
			case tc.dead:
				dl := e.deadLetter(t, dlq)
				if got := dl.Header.Get(commands.HeaderDLQDeliveries); got != "1" {
					t.Errorf("bad input dead-lettered after %s deliveries, want 1 (no retry)", got)
				}
				if dl.Header.Get(nats.MsgIdHdr) != id || string(dl.Data) != string(toJSON(t, tc.body(chatID))) {
					t.Error("dead letter does not carry the original headers and body")
				}
			default:
				if n := e.deadLettersOn(dlq); n != 0 {
					t.Errorf("%d dead letters for a %s outcome, want none", n, tc.code)
				}
			}
			// Nothing is left pending, and the consumer keeps working.
			e.sim.ClearFaults()
			e.sessions.setPanic("")
			e.publishDurable(t, agentTwo, commands.AgentStatus, map[string]any{"id": "after", "status": "Online"}, "")
			if res := e.result(t, "after"); !res.OK {
				t.Fatalf("the consumer does not work after %s: %+v", tc.name, res.Error)
			}
			e.waitStreamEmpty(t)
		})
	}
}

// A transient failure is redelivered, and the redelivery succeeds.
func TestDurableRedeliveryRecovers(t *testing.T) {
	e := newEnv(t)
	e.start(t, durableConfig())
	chatID := e.chattingChat(t, agentOne, skillA)
	// Two 503s: the first two deliveries fail (lpchat does not retry a send), the third works.
	e.sim.InjectFault(lpsim.Fault{PathContains: "/events", Method: "POST", Status: 503, Count: 2})
	e.publishDurable(t, agentOne, commands.ChatSend, map[string]any{"id": "retry-me", "chatId": chatID, "text": "persistent"}, "")
	res := e.result(t, "retry-me")
	if !res.OK {
		t.Fatalf("redelivered chat.send failed: %+v", res.Error)
	}
	if n := e.countText(t, chatID, "persistent"); n != 1 {
		t.Errorf("visitor sees the line %d times, want 1", n)
	}
	if n := len(e.dead.all()); n != 0 {
		t.Errorf("%d dead letters, want none", n)
	}
	e.waitStreamEmpty(t)
}

// waitStreamEmpty waits until the work-queue stream holds no command (all
// acknowledged).
func (e *env) waitStreamEmpty(t testing.TB) {
	t.Helper()
	// Past one ack wait (about 31 s in these tests): a command that reached
	// a consumer stopped just before (a restart) comes back only then.
	testwait.Until(t, 45*time.Second, func() error {
		s, err := e.js.Stream(context.Background(), commands.DefaultStreamName)
		if err != nil {
			return err
		}
		info, err := s.Info(context.Background())
		if err != nil {
			return err
		}
		if info.State.Msgs != 0 {
			return fmt.Errorf("%d commands still in the stream", info.State.Msgs)
		}
		return nil
	})
}

// A dead letter keeps the original headers as they came, repeated ones
// with every value, so it can be republished unchanged.
func TestDurableDeadLetterKeepsRepeatedHeaders(t *testing.T) {
	e := newEnv(t)
	e.start(t, durableConfig())
	m := &nats.Msg{Subject: commands.DurableSubject("lp", account, agentOne, commands.AgentStatus),
		Data: []byte(`{"id":"hdr-1","status":"Sleeping"}`), Header: nats.Header{}}
	m.Header.Add("X-Tag", "first")
	m.Header.Add("X-Tag", "second")
	if _, err := e.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatalf("publish: %v", err)
	}
	dl := e.deadLetter(t, commands.DeadLetterSubject("lp", account, agentOne, commands.AgentStatus))
	if got := dl.Header.Values("X-Tag"); !slices.Equal(got, []string{"first", "second"}) {
		t.Errorf("dead letter X-Tag = %q, want both values", got)
	}
	if dl.Header.Get(commands.HeaderDLQCode) != string(commands.CodeBadRequest) || dl.Header.Get(commands.HeaderCommandID) != "hdr-1" {
		t.Errorf("dead letter headers %v, want bad_request for hdr-1", dl.Header)
	}
}
