package poller_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// restoreGap is the test's RestoreMinGap: long against the accept window,
// so the bound shows.
const restoreGap = 700 * time.Millisecond

// With RestoreAvailability, an agent the service set Away after a missed
// ring is set Online again (cause restore), and a bot that never answers is
// restored at most once per RestoreMinGap.
func TestRestoreAvailabilityAfterMissedRing(t *testing.T) {
	e := newEnv(t, lpsim.Config{AcceptWindow: 150 * time.Millisecond})
	col := e.collect()
	w := e.worker(config(func(c *poller.Config) {
		c.Agent.AutoAccept, c.Agent.RestoreAvailability = false, true
		c.RestoreMinGap = restoreGap
	}), nil, nil, nil)
	run(t, w)
	col.waitEvent(events.AgentStatus, "", func(d any) bool { return d.(events.StatusData).Status == "Online" })

	e.startChat(lpsim.VisitorSpec{Name: "Ed"}) // nobody ever accepts it
	isRestore := func(d any) bool {
		s := d.(events.StatusData)
		return s.Status == "Online" && s.Cause == events.StatusCauseRestore && s.Previous == "Away"
	}
	col.waitEvent(events.AgentStatus, "", isRestore)
	first := time.Now()
	waitUntil(t, "three restores", func() string {
		if n := restores(col); n < 3 {
			return fmt.Sprintf("restored %d times", n)
		}
		return ""
	})
	// Three restores take at least two gaps; without the bound they come
	// every accept window plus a sync (a few hundred ms).
	if took := time.Since(first); took < 2*restoreGap-100*time.Millisecond {
		t.Errorf("three restores within %v, want at least %v", took, 2*restoreGap)
	}
	rs := restores(col)
	var away int
	for _, g := range col.of(events.AgentStatus, "") {
		if s := g.Data.(events.StatusData); s.Status == "Away" {
			away++
			if s.Cause != events.StatusCauseService {
				t.Errorf("Away with cause %q, want service", s.Cause)
			}
		}
	}
	if away < rs {
		t.Errorf("%d Away and %d restores: every restore follows the service's Away", away, rs)
	}
}

// Off (the default), the service's Away stands.
func TestNoRestoreByDefault(t *testing.T) {
	e := newEnv(t, lpsim.Config{AcceptWindow: 150 * time.Millisecond})
	col := e.collect()
	w := e.worker(config(func(c *poller.Config) {
		c.Agent.AutoAccept = false
		c.RestoreMinGap = time.Millisecond
	}), nil, nil, nil)
	run(t, w)
	e.startChat(lpsim.VisitorSpec{Name: "Flo"})
	col.waitEvent(events.AgentStatus, "", func(d any) bool { return d.(events.StatusData).Status == "Away" })
	polls := e.sim.Requests()
	waitUntil(t, "a few syncs", func() string {
		if e.sim.Requests() < polls+12 {
			return "waiting"
		}
		return ""
	})
	if n := restores(col); n != 0 {
		t.Errorf("%d restores with RestoreAvailability off", n)
	}
	if st, err := e.sim.AgentAvailability(acct, login); err != nil || st != "Away" {
		t.Errorf("availability = %q, %v; want Away", st, err)
	}
}

// restores counts the agent.status events with cause restore.
func restores(col *collector) int {
	n := 0
	for _, g := range col.of(events.AgentStatus, "") {
		if g.Data.(events.StatusData).Cause == events.StatusCauseRestore {
			n++
		}
	}
	return n
}
