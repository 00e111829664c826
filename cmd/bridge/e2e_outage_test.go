package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/state"
)

// The outage test's workload and fault: outageChats visitors say numbered
// lines, a round every outagePace, before, during and after a NATS outage
// of at least outageFor; the bridge's reconnect buffer holds only
// outageBuffer bytes of publishes, a few events' worth.
const (
	outageChats  = 3
	outagePace   = 250 * time.Millisecond
	outageFor    = 10 * time.Second
	outageBuffer = 16 * 1024
	// outageAfter is how many rounds the visitors still say once the
	// bridge publishes again.
	outageAfter = 8
)

// TestE2EOutageLongerThanReconnectBuffer is issue 10's NATS outage: the
// only NATS server goes away for longer than the bridge's reconnect buffer
// can hold (its overflow is logged before the server comes back), while
// visitors keep talking, and is started again on the same port with the
// same store. The bridge, never restarted, turns unready during the
// outage and ready again by itself; no cursor in the state bucket is
// ahead of the events stored for its chat (sampled all the while the
// bridge catches up, and at the end); in the end every visitor line
// arrived exactly once (one CloudEvent id each) and in per-chat order.
func TestE2EOutageLongerThanReconnectBuffer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the NATS outage test (NATS down for 10 s)")
	}
	const pw = "outage-pw-one"
	sim, simURL := startSim(t, simOptions{seed: 13, agents: e2eAgents(pw, "outage-pw-two")})
	port, storeDir := freePort(t), t.TempDir()
	sameServer := func(o *server.Options) { o.Port, o.StoreDir = port, storeDir }
	ns := natstest.StartServer(t, sameServer)
	// The test's own client waits out the outage as the bridge does.
	_, js := natstest.Connect(t, ns, nats.MaxReconnects(-1))

	vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
	vars["NATS_RECONNECT_BUFFER"] = strconv.Itoa(outageBuffer)
	// The lease outlasts the outage, so the owner keeps polling and
	// publishing into its reconnect buffer meanwhile (with a shorter one
	// it would stop at the lease's end and publish nothing until NATS is
	// back).
	vars["LEASE_TTL"] = "30s"
	httpPort := freePort(t)
	vars["HTTP_ADDR"] = fmt.Sprintf("127.0.0.1:%d", httpPort)
	readyz := fmt.Sprintf("http://127.0.0.1:%d/readyz", httpPort)
	setBridgeEnv(t, vars)
	b := startBridge(t)
	before := collectEvents(t, b, js)
	store, err := state.Open(t.Context(), js, state.Config{})
	if err != nil {
		t.Fatalf("state store: %v", err)
	}

	chats := make([]string, outageChats)
	for i := range chats {
		chats[i] = startVisitor(t, sim, lpsim.VisitorSpec{Name: fmt.Sprintf("Outage visitor %d", i), SkillID: skillSupport})
	}
	waitUntil(t, b, "bot.one accepts every chat", func() error {
		for _, chat := range chats {
			st, agent, err := sim.ChatState(e2eAccount, chat)
			if err != nil {
				return err
			}
			if st != "chatting" || agent != botOne {
				return fmt.Errorf("chat %s: state %q agent %q", chat, st, agent)
			}
		}
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	visitors := &outageTalker{sim: sim, chats: chats}
	talked := make(chan error, 1)
	go func() { talked <- visitors.run(ctx) }()

	waitUntil(t, b, "the first lines before the outage", func() error {
		for i, chat := range chats {
			want := outageLineText(i, 4)
			if len(before.match(func(r received) bool { return r.is(events.ChatLine, chat) && r.str("text") == want })) == 0 {
				return fmt.Errorf("chat %s: no %q yet", chat, want)
			}
		}
		return wantStatus(readyz, http.StatusOK)
	})

	ns.Shutdown()
	ns.WaitForShutdown()
	down, postedBefore := time.Now(), visitors.posted.Load()
	t.Logf("NATS shut down after %d rounds of lines, %d events", postedBefore, before.count())
	waitUntil(t, b, "/readyz unready while NATS is down", func() error {
		return wantStatus(readyz, http.StatusServiceUnavailable)
	})
	waitUntil(t, b, "the outage outlasts the reconnect buffer", func() error {
		if !strings.Contains(b.stderr.String(), nats.ErrReconnectBufExceeded.Error()) {
			return fmt.Errorf("no publish refused for a full reconnect buffer (%q) yet", nats.ErrReconnectBufExceeded.Error())
		}
		if d := time.Since(down); d < outageFor {
			return fmt.Errorf("down for %s only", d.Round(time.Millisecond))
		}
		return nil
	})
	postedDuring := visitors.posted.Load() - postedBefore
	natstest.StartServer(t, sameServer) // shut down when the test ends
	t.Logf("NATS started again with its store after %s; %d rounds of lines said meanwhile",
		time.Since(down).Round(time.Millisecond), postedDuring)
	if postedDuring < 2 {
		t.Fatalf("the visitors said %d rounds during the outage; want lines while NATS was down", postedDuring)
	}

	// Read from the stream's first message: what it holds after recovery.
	after := collectEvents(t, b, js)
	// Sampled again and again while the bridge catches up: a cursor saved
	// ahead of its events would show here even if later events caught up.
	ahead := map[string]string{} // chat → the first cursor seen ahead
	noteAhead := func(bad map[string]string) {
		for chat, why := range bad {
			if _, seen := ahead[chat]; !seen {
				ahead[chat] = why
			}
		}
	}
	defer func() { // also after a failed wait: what was seen ahead counts
		for _, chat := range slices.Sorted(maps.Keys(ahead)) {
			t.Errorf("chat %s: cursor ahead of the stream: %s", chat, ahead[chat])
		}
	}()
	samples := 0
	waitUntil(t, b, "the bridge stores the outage's lines, cursors never ahead", func() error {
		bad, err := cursorsAhead(t.Context(), js, store, sim, after, chats)
		if err != nil {
			return err
		}
		samples++
		noteAhead(bad)
		for i, chat := range chats {
			last := outageLineText(i, int(postedBefore+postedDuring))
			if len(after.match(func(r received) bool { return r.is(events.ChatLine, chat) && r.str("text") == last })) == 0 {
				return fmt.Errorf("chat %s: no %q yet", chat, last)
			}
		}
		return nil
	})
	t.Logf("caught up %s after the shutdown; cursors checked %d times meanwhile", time.Since(down).Round(time.Millisecond), samples)
	waitUntil(t, b, "/readyz ready again by itself", func() error { return wantStatus(readyz, http.StatusOK) })

	visitors.finish(outageAfter)
	waitForTranscripts(t, talked, after, chats)
	waitUntil(t, b, "the cursors at the end", func() error {
		bad, err := cursorsAhead(t.Context(), js, store, sim, after, chats)
		noteAhead(bad)
		return err
	})
	if ok, err := b.exited(); ok {
		t.Fatalf("the bridge stopped by itself: %v", err)
	}
	if err := b.stop(); err != nil { // before the cleanup shuts NATS down
		t.Errorf("bridge: %v", err)
	}

	got := after.all()
	rounds := int(visitors.posted.Load())
	t.Logf("%d rounds of lines (%d during the outage), %d events: %s", rounds, postedDuring, len(got), typeCounts(got))
	checkEvents(t, got)
	for i, chat := range chats {
		texts := make([]string, rounds)
		for n := range texts {
			texts[n] = outageLineText(i, n+1)
		}
		checkChatOnce(t, sim, got, chat, texts)
	}
}

// outageLineText is line n (from 1) of visitor i.
func outageLineText(i, n int) string { return fmt.Sprintf("outage visitor %d line %03d", i, n) }

// outageTalker has every visitor say a numbered line, a round every
// outagePace, until told how many more rounds to say; then they leave.
type outageTalker struct {
	sim    *lpsim.Simulator
	chats  []string
	posted atomic.Int64 // rounds said
	last   atomic.Int64 // the last round to say; 0 until finish
}

func (v *outageTalker) run(ctx context.Context) error {
	tick := time.NewTicker(outagePace)
	defer tick.Stop()
	for n := int64(1); ; n++ {
		for i, chat := range v.chats {
			if _, err := v.sim.VisitorLine(e2eAccount, chat, outageLineText(i, int(n))); err != nil {
				return fmt.Errorf("chat %s line %d: %w", chat, n, err)
			}
		}
		v.posted.Store(n)
		if last := v.last.Load(); last > 0 && n >= last {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	for _, chat := range v.chats {
		if err := v.sim.VisitorEnd(e2eAccount, chat); err != nil {
			return fmt.Errorf("end chat %s: %w", chat, err)
		}
	}
	return nil
}

// finish has the visitors say more rounds and leave.
func (v *outageTalker) finish(more int) { v.last.Store(v.posted.Load() + int64(more)) }

// cursorsAhead reads each chat's cursor and then the events the stream
// holds up to that moment, and returns (chat → what is wrong) the chats
// whose cursor is past a
// line the stream does not hold: a line of the simulator with an event id
// up to the cursor's LastEventID that no chat.line stored carries. Such a
// cursor was saved before its events were acknowledged; the bridge would
// never publish that line. (Comparing with the highest id stored would
// miss it once later lines are stored.) An error: the stream, the bucket
// or the simulator cannot be read now, or col has not caught up yet.
func cursorsAhead(ctx context.Context, js jetstream.JetStream, store *state.Store, sim *lpsim.Simulator, col *collector, chats []string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	curs := make([]state.Cursor, len(chats))
	found := make([]bool, len(chats))
	for i, chat := range chats {
		c, ok, err := store.Cursor(ctx, e2eAccount, events.Token(botOne), chat)
		if err != nil {
			return nil, fmt.Errorf("cursor of chat %s: %w", chat, err)
		}
		curs[i], found[i] = c, ok
	}
	// The stream as it is now, at least as far as the cursors read before.
	stream, err := js.Stream(ctx, e2eStream)
	if err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	upTo := stream.CachedInfo().State.LastSeq
	got := col.all()
	if len(got) == 0 || got[len(got)-1].StreamSeq < upTo {
		return nil, fmt.Errorf("the test's consumer has not read up to #%d yet (%d events)", upTo, len(got))
	}
	ahead := map[string]string{}
	for i, chat := range chats {
		if !found[i] {
			continue
		}
		stored := map[int]bool{}
		for _, r := range got {
			if r.StreamSeq <= upTo && r.is(events.ChatLine, chat) {
				if id, ok := r.Data["eventId"].(float64); ok {
					stored[int(id)] = true
				}
			}
		}
		simEvents, err := sim.ChatEvents(e2eAccount, chat)
		if err != nil {
			return nil, fmt.Errorf("simulator events of chat %s: %w", chat, err)
		}
		for _, e := range simEvents {
			if e.Type == "line" && e.ID <= curs[i].LastEventID && !stored[e.ID] {
				ahead[chat] = fmt.Sprintf("cursor at event %d, but line %d (%q) is not in the stream (up to #%d)",
					curs[i].LastEventID, e.ID, e.Text, upTo)
				break
			}
		}
	}
	return ahead, nil
}
