package lpchat_test

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// simLimit is the simulator's per-account request budget in these tests.
const (
	simLimit = 20 // requests a second
	simBurst = 5
)

// A client whose Budget is below the simulator's limit is never answered
// 429, however fast it is asked.
func TestBudgetKeepsUnderTheServiceLimit(t *testing.T) {
	e := newSim(t, lpsim.Config{Seed: 8})
	s := e.online(t, simBot, func(c *lpchat.Config) {
		c.Budget = rate.NewLimiter(simLimit/2, 1)
	})
	e.sim.SetRequestBudget(simLimit, simBurst)
	ctx := testCtx(t)
	for range simLimit { // twice the burst and more: a bare loop would be throttled
		if _, err := s.IncomingRequests(ctx); err != nil {
			t.Fatalf("IncomingRequests: %v", err)
		}
	}
	if n := e.sim.Throttled(); n != 0 {
		t.Errorf("the simulator answered 429 %d times, want 0", n)
	}
}

// Without a budget the client runs into the limit, and waits the
// simulator's Retry-After (1 s, far above the policy's minimum here)
// before it retries; the call then succeeds.
func TestRetryAfterOfTheServiceLimitIsHonoured(t *testing.T) {
	e := newSim(t, lpsim.Config{Seed: 9})
	var throttled atomic.Int32
	s := e.online(t, simBot, func(c *lpchat.Config) {
		c.OnRetry = func(_ string, status int) {
			if status == 429 {
				throttled.Add(1)
			}
		}
	})
	e.sim.SetRequestBudget(simLimit, simBurst)
	ctx := testCtx(t)
	for throttled.Load() == 0 {
		start := time.Now()
		if _, err := s.IncomingRequests(ctx); err != nil {
			t.Fatalf("IncomingRequests: %v", err)
		}
		if throttled.Load() > 0 {
			if took := time.Since(start); took < time.Second {
				t.Errorf("retried after %v, want at least the Retry-After of 1s", took)
			}
		} else if time.Since(start) > 500*time.Millisecond {
			t.Fatal("a call without a 429 was slow")
		}
		if e.sim.Throttled() > 10 {
			t.Fatal("too many 429s without a retry being counted")
		}
	}
}
