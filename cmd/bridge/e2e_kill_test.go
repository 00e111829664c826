package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// The kill test's workload: killChats visitors say killLines numbered lines
// each, one round every linePace, then leave.
const (
	killChats = 4
	killLines = 30
	linePace  = 150 * time.Millisecond
	// seedEnv fixes the kill points' seed to replay a failed run.
	seedEnv = "LPBRIDGE_E2E_SEED"
)

// TestE2EKillRestart is DESIGN.md §4.1 under fire: the bridge runs as a
// child process against NATS and the simulator of the test, visitors talk,
// and the test SIGKILLs the bridge at random points and restarts it, several
// times. In the end every visitor line arrived exactly once per chat and in
// order, every chat has exactly one complete transcript, and no event id is
// doubled.
func TestE2EKillRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the kill/restart test (SIGKILLs and restarts a bridge process several times)")
	}
	seed := killSeed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	const pw = "kill-pw-one"
	sim, simURL := startSim(t, simOptions{seed: 3, agents: e2eAgents(pw, "kill-pw-two")})
	ns := natstest.StartServer(t) // file store: the stream outlives every bridge
	_, js := natstest.Connect(t, ns)
	vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
	vars["POLL_INTERVAL"] = "50ms"
	// A killed bridge keeps the agent's lease until it expires: the next one
	// waits up to this long before it polls.
	vars["LEASE_TTL"] = "1s"
	logDir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			dumpChildLogs(t, logDir)
		}
	})

	child := startChild(t, vars, logDir, 0)
	col := collectEvents(t, nil, js)
	chats := make([]string, killChats)
	for i := range chats {
		chats[i] = startVisitor(t, sim, lpsim.VisitorSpec{Name: fmt.Sprintf("Visitor %d", i), SkillID: skillSupport})
	}
	waitUntil(t, nil, "bot.one accepts every chat", func() error {
		for _, chat := range chats {
			state, agent, err := sim.ChatState(e2eAccount, chat)
			if err != nil {
				return err
			}
			if state != "chatting" || agent != botOne {
				return fmt.Errorf("chat %s: state %q agent %q", chat, state, agent)
			}
		}
		return nil
	})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	talked := make(chan error, 1)
	go func() { talked <- talk(ctx, sim, chats) }()

	kills := 4 + rng.IntN(3)
	for k := range kills {
		at := randomKillPoint(rng, sim, col)
		waitUntil(t, nil, fmt.Sprintf("bridge %d reaches %s", k, at), func() error {
			if child.exited() {
				return fmt.Errorf("bridge %d exited by itself", k)
			}
			if !at.reached() {
				return errors.New("not yet")
			}
			return nil
		})
		child.kill(t)
		t.Logf("kill %d/%d at %s; %d events so far", k+1, kills, at, col.count())
		child = startChild(t, vars, logDir, k+1)
	}

	waitForTranscripts(t, talked, col, chats)
	// The last bridge may have been started only just now: SIGTERM it
	// once it handles signals.
	waitUntil(t, nil, "the last bridge runs", func() error {
		if !childLogged(logDir, kills, "bridge running") {
			return errors.New("not yet")
		}
		return nil
	})
	if err := child.terminate(); err != nil {
		t.Errorf("last bridge: %v", err)
	}

	got := col.all()
	t.Logf("%d kills, %d events: %s", kills, len(got), typeCounts(got))
	checkEvents(t, got)
	for i, chat := range chats {
		checkChatOnce(t, sim, got, chat, lineTexts(i))
	}
}

// killPoint is when the test SIGKILLs a bridge.
type killPoint struct {
	sim                 *lpsim.Simulator
	col                 *collector
	requests0, requests int64 // kill after this many more API requests...
	events0, events     int   // ...or, if events > 0, after this many more events
}

// randomKillPoint picks a point in the bridge's life: after a random number
// of API requests (anywhere from its login and session resume to the middle
// of a tick), or right after a random number of new events reached the
// stream (between a publish and the cursor save). An events point falls
// back to a requests point when nothing new happens (the visitors are done).
func randomKillPoint(rng *rand.Rand, sim *lpsim.Simulator, col *collector) *killPoint {
	p := &killPoint{sim: sim, col: col, requests0: sim.Requests(), events0: col.count()}
	if rng.IntN(2) == 0 {
		p.requests = 4 + int64(rng.IntN(40))
	} else {
		p.requests, p.events = 80, 1+rng.IntN(12)
	}
	return p
}

func (p *killPoint) reached() bool {
	if p.events > 0 && p.col.count()-p.events0 >= p.events {
		return true
	}
	return p.sim.Requests()-p.requests0 >= p.requests
}

// String says where the point is and, once reached, what the bridge did.
func (p *killPoint) String() string {
	done := fmt.Sprintf("(after %d requests, %d events)", p.sim.Requests()-p.requests0, p.col.count()-p.events0)
	if p.events > 0 {
		return fmt.Sprintf("%d new events or %d requests %s", p.events, p.requests, done)
	}
	return fmt.Sprintf("%d requests %s", p.requests, done)
}

// killSeed is the seed of the kill points: from LPBRIDGE_E2E_SEED, or the
// clock (logged, so a failure can be replayed).
func killSeed(t *testing.T) int64 {
	t.Helper()
	seed := time.Now().UnixNano()
	if s := os.Getenv(seedEnv); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", seedEnv, err)
		}
		seed = n
	}
	t.Logf("kill points seed %d (replay with %s=%d)", seed, seedEnv, seed)
	return seed
}

// lineTexts are the numbered lines visitor i says, in order.
func lineTexts(i int) []string {
	out := make([]string, killLines)
	for n := range out {
		out[n] = fmt.Sprintf("visitor %d line %02d", i, n+1)
	}
	return out
}

// talk has every visitor say its lines, a round every linePace, and then
// leave its chat.
func talk(ctx context.Context, sim *lpsim.Simulator, chats []string) error {
	tick := time.NewTicker(linePace)
	defer tick.Stop()
	texts := make([][]string, len(chats))
	for i := range chats {
		texts[i] = lineTexts(i)
	}
	for n := range killLines {
		for i, chat := range chats {
			if _, err := sim.VisitorLine(e2eAccount, chat, texts[i][n]); err != nil {
				return fmt.Errorf("chat %s line %d: %w", chat, n+1, err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	for _, chat := range chats {
		if err := sim.VisitorEnd(e2eAccount, chat); err != nil {
			return fmt.Errorf("end chat %s: %w", chat, err)
		}
	}
	return nil
}

// checkChatOnce asserts that chat's events hold every line the simulator
// has, exactly once and in order (visitor lines also by their numbered
// texts), and one chat.ended and one transcript with all of them.
func checkChatOnce(t *testing.T, sim *lpsim.Simulator, got []received, chat string, visitorTexts []string) {
	t.Helper()
	simEvents, err := sim.ChatEvents(e2eAccount, chat)
	if err != nil {
		t.Fatalf("ChatEvents %s: %v", chat, err)
	}
	var wantIDs []int
	for _, e := range simEvents {
		if e.Type == "line" {
			wantIDs = append(wantIDs, e.ID)
		}
	}
	var ids []int
	var texts []string
	for _, r := range got {
		if !r.is(events.ChatLine, chat) {
			continue
		}
		var d events.LineData
		if err := json.Unmarshal(r.CE.Data(), &d); err != nil {
			t.Errorf("%v: %v", r, err)
			continue
		}
		ids = append(ids, d.EventID)
		if d.Source == "visitor" {
			texts = append(texts, d.Text)
		}
	}
	if !slices.Equal(texts, visitorTexts) {
		t.Errorf("chat %s: visitor lines arrived as\n%q\nwant each once, in order:\n%q", chat, texts, visitorTexts)
	}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("chat %s: chat.line event ids %v; want the simulator's lines %v, each once, in order", chat, ids, wantIDs)
	}
	if n := len(matchAll(got, events.ChatEnded, chat)); n != 1 {
		t.Errorf("chat %s: %d chat.ended events, want 1", chat, n)
	}
	trs := matchAll(got, events.ChatTranscript, chat)
	if len(trs) != 1 {
		t.Errorf("chat %s: %d transcripts, want exactly 1", chat, len(trs))
		return
	}
	var d events.TranscriptData
	if err := json.Unmarshal(trs[0].CE.Data(), &d); err != nil {
		t.Fatalf("transcript of %s: %v", chat, err)
	}
	var trIDs []int
	var trTexts []string
	for _, l := range d.Lines {
		trIDs = append(trIDs, l.EventID)
		if l.Source == "visitor" {
			trTexts = append(trTexts, l.Text)
		}
	}
	if d.ChatID != chat || !slices.Equal(trIDs, wantIDs) || !slices.Equal(trTexts, visitorTexts) {
		t.Errorf("transcript of %s is not complete: chat %q, line ids %v (want %v), visitor lines %q",
			chat, d.ChatID, trIDs, wantIDs, trTexts)
	}
}

// matchAll returns the events of type typ of chat.
func matchAll(got []received, typ events.Type, chat string) []received {
	var out []received
	for _, r := range got {
		if r.is(typ, chat) {
			out = append(out, r)
		}
	}
	return out
}

// dumpChildLogs logs the tail of every bridge process's output.
func dumpChildLogs(t *testing.T, dir string) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(dir, "bridge-*.log"))
	for _, l := range logs {
		raw, err := os.ReadFile(l)
		if err != nil {
			t.Logf("%s: %v", l, err)
			continue
		}
		t.Logf("--- %s (tail)\n%s", filepath.Base(l), tail(string(raw), 25))
	}
}
