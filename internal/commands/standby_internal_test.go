package commands

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// ownership is a SessionSource and OwnershipSource running stepAgent,
// owned when owns is set.
type ownership struct {
	noSessions
	owns atomic.Bool
}

func (*ownership) Agents(string) []string      { return []string{stepAgent} }
func (o *ownership) Owns(_, agent string) bool { return agent == stepAgent && o.owns.Load() }

func TestRoutedToOwnerHandsBackAndCountsTries(t *testing.T) {
	own := &ownership{}
	e := newStepEnv(t, own, func(c *Config) { c.OwnershipCheck = 40 * time.Millisecond })
	ctx := context.Background()
	pos := position{seq: 7, stored: time.Now().UnixNano()}
	deliver := func(delivered uint64, out outcome) (outcome, *stub) {
		d := e.delivery(modeDurable, AgentStatus, "own-1")
		d.tries, d.pos = delivered, pos
		s := &stub{out: out}
		return e.c.routedToOwner(s.step)(ctx, d), s
	}
	skipped := func() uint64 {
		n, err := e.c.results.skipped(ctx, e.c.skipKey(pos), pos)
		if err != nil {
			t.Fatalf("skip count: %v", err)
		}
		return n
	}

	// Standing by: handed back after one ownership check, not run.
	for delivered := uint64(1); delivered <= 2; delivered++ {
		out, s := deliver(delivered, outcome{final: true})
		if s.calls != 0 || !out.redeliver || out.delay != 40*time.Millisecond {
			t.Fatalf("standby delivery %d: runs=%d redeliver=%v delay=%v, want handed back after 40ms",
				delivered, s.calls, out.redeliver, out.delay)
		}
	}
	if n := skipped(); n != 2 {
		t.Fatalf("%d skipped deliveries counted, want 2", n)
	}

	// Owned: the try number leaves the skips out; a retry keeps the count.
	own.owns.Store(true)
	_, s := deliver(4, outcome{redeliver: true})
	if s.calls != 1 || s.tries != 2 {
		t.Errorf("owner's delivery 4: runs=%d as try %d, want 1 run as try 2", s.calls, s.tries)
	}
	if n := skipped(); n != 2 {
		t.Errorf("a retry dropped the skip count (%d)", n)
	}
	_, s = deliver(5, outcome{final: true})
	if s.tries != 3 {
		t.Errorf("owner's delivery 5 ran as try %d, want 3", s.tries)
	}
	if n := skipped(); n != 0 {
		t.Errorf("the skip count (%d) outlives the settled command", n)
	}
}
