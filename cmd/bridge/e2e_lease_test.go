package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// The lease test's workload: leaseChats visitors say leaseLines numbered
// lines each, one round every leasePace, then leave.
const (
	leaseChats = 2
	leaseLines = 20
	leasePace  = 100 * time.Millisecond
)

// TestE2ELeaseTakeover is DESIGN.md §4.4 with two bridge processes on the
// same NATS and simulator, both configured for the same agent: only the one
// holding the agent's lease logs in and polls (the other makes no request
// at all), every visitor line arrives once and in order; SIGKILL the owner
// mid-chat and the other takes the agent over once the lease expires, and
// the lines said meanwhile and after still arrive exactly once, in order.
func TestE2ELeaseTakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the lease takeover test (runs and SIGKILLs bridge processes)")
	}
	const pw = "lease-pw-one"
	calls := &callCounter{}
	sim, simURL := startSim(t, simOptions{seed: 7, agents: e2eAgents(pw, "lease-pw-two"), wrap: calls.wrap})
	ns := natstest.StartServer(t)
	_, js := natstest.Connect(t, ns)
	vars := bridgeVars(ns.ClientURL(), simURL, botOne, pw)
	vars["POLL_INTERVAL"] = "50ms"
	vars["LEASE_TTL"] = "2s"
	bridges, logDir := startReplicas(t, vars, 2)
	col := collectEvents(t, nil, js)

	owner := waitForOwner(t, bridges, logDir, "lease acquired")
	standby := 1 - owner

	chats := make([]string, leaseChats)
	for i := range chats {
		chats[i] = startVisitor(t, sim, lpsim.VisitorSpec{Name: fmt.Sprintf("Lease visitor %d", i), SkillID: skillSupport})
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	talked := make(chan error, 1)
	go func() { talked <- talkLines(ctx, sim, chats) }()

	// Kill the owner once a third of the lines arrived.
	waitUntil(t, nil, "a third of the lines", func() error {
		for i, chat := range chats {
			want := leaseLineText(i, leaseLines/3)
			if len(col.match(func(r received) bool { return r.is(events.ChatLine, chat) && r.str("text") == want })) == 0 {
				return fmt.Errorf("chat %s: no %q yet", chat, want)
			}
		}
		return nil
	})
	if n := calls.logins.Load(); n != 1 {
		t.Errorf("%d logins while one bridge holds the lease; want 1 (the standby must not log in)", n)
	}
	if n := calls.sessions.Load(); n != 1 {
		t.Errorf("%d agent sessions started; want 1", n)
	}
	if childLogged(logDir, standby, "lease acquired") || childLogged(logDir, standby, "logged in") {
		t.Errorf("the standby bridge %d acquired the lease or logged in while bridge %d held it", standby, owner)
	}
	bridges[owner].kill(t)
	killed := time.Now()
	t.Logf("killed bridge %d, the owner; %d events so far", owner, col.count())

	waitUntil(t, nil, "the standby takes the agent over", func() error {
		if bridges[standby].exited() {
			return errors.New("the standby exited")
		}
		if !childLogged(logDir, standby, "lease acquired") {
			return errors.New("not yet")
		}
		return nil
	})
	t.Logf("bridge %d took over %s after the kill (lease TTL %s)", standby, time.Since(killed).Round(10*time.Millisecond), vars["LEASE_TTL"])

	waitForTranscripts(t, talked, col, chats)
	if err := bridges[standby].terminate(); err != nil {
		t.Errorf("bridge %d: %v", standby, err)
	}
	if !childLogged(logDir, standby, "lease released") {
		t.Errorf("bridge %d did not release the lease at shutdown", standby)
	}

	got := col.all()
	t.Logf("%d events: %s", len(got), typeCounts(got))
	checkEvents(t, got)
	for i, chat := range chats {
		texts := make([]string, leaseLines)
		for n := range texts {
			texts[n] = leaseLineText(i, n+1)
		}
		checkChatOnce(t, sim, got, chat, texts)
	}
}

// callCounter counts the logins and agent-session starts the simulator
// serves.
type callCounter struct {
	logins, sessions atomic.Int64
}

func (c *callCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimSuffix(r.URL.Path, ".json")
		switch {
		case r.Method != http.MethodPost:
		case strings.HasSuffix(path, "/login"):
			c.logins.Add(1)
		case strings.HasSuffix(path, "/agentSession"):
			c.sessions.Add(1)
		}
		h.ServeHTTP(w, r)
	})
}

// leaseLineText is line n (from 1) of visitor i.
func leaseLineText(i, n int) string { return fmt.Sprintf("lease visitor %d line %02d", i, n) }

// talkLines has every visitor say its leaseLines lines, a round every
// leasePace, and then leave its chat.
func talkLines(ctx context.Context, sim *lpsim.Simulator, chats []string) error {
	tick := time.NewTicker(leasePace)
	defer tick.Stop()
	for n := 1; n <= leaseLines; n++ {
		for i, chat := range chats {
			if _, err := sim.VisitorLine(e2eAccount, chat, leaseLineText(i, n)); err != nil {
				return fmt.Errorf("chat %s line %d: %w", chat, n, err)
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

// childLogged reports whether bridge n's output (see startChild) holds text.
func childLogged(logDir string, n int, text string) bool {
	raw, err := os.ReadFile(filepath.Join(logDir, fmt.Sprintf("bridge-%d.log", n)))
	return err == nil && strings.Contains(string(raw), text)
}
