package lpchat_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// testBudget counts its waits; it grants each one, or, once told, blocks
// until the context is done or refuses with errRefused.
type testBudget struct {
	waits  atomic.Int32
	block  atomic.Bool
	refuse atomic.Bool
}

var errRefused = errors.New("budget refused")

func (b *testBudget) Wait(ctx context.Context) error {
	b.waits.Add(1)
	switch {
	case b.refuse.Load():
		return errRefused
	case b.block.Load():
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// Every request that reaches the service, retries and the domain lookup
// included, took one wait of the budget.
func TestBudgetEveryAttempt(t *testing.T) {
	f := newFake(t)
	b := &testBudget{}
	s := session(t, f, func(c *lpchat.Config) { c.Budget = b })
	var n atomic.Int32
	f.handle("GET /agentSession/"+testASID+"/incomingRequests",
		statusSequence(&n, `{"incomingRequests":{"ringingCount":"0"}}`, 503, 429, 200))
	if _, err := s.IncomingRequests(testCtx(t)); err != nil {
		t.Fatalf("IncomingRequests: %v", err)
	}
	if n.Load() != 3 {
		t.Fatalf("incomingRequests reached the service %d times, want 3 (503, 429, 200)", n.Load())
	}
	sent := len(f.requests("")) // domain lookup, login, agent session, 3 × incomingRequests
	if got := int(b.waits.Load()); got != sent || sent != 6 {
		t.Errorf("budget waited %d times for %d requests, want 6 each", got, sent)
	}
}

// A wait the caller's context cuts off ends the call with the context's
// error: no request is sent and nothing is retried.
func TestBudgetWaitCutOffByContext(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			b := &testBudget{}
			s := session(t, f, func(c *lpchat.Config) { c.Budget = b })
			before, waits := len(f.requests("")), b.waits.Load()
			b.block.Store(true)
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := s.IncomingRequests(ctx)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var ae *lpchat.APIError
			if !errors.As(err, &ae) || ae.Attempts != 0 {
				t.Errorf("err = %v, want an *APIError with 0 attempts", err)
			}
			if got := b.waits.Load() - waits; got != 1 {
				t.Errorf("budget waited %d times, want 1: a cut-off wait is not retried", got)
			}
			if sent := len(f.requests("")) - before; sent != 0 {
				t.Errorf("%d requests sent while the budget granted none", sent)
			}
		})
	}
}

// A rate.Limiter that refuses up front, because its next token comes after
// the context's deadline, counts as that deadline.
func TestBudgetRateLimiterPastDeadline(t *testing.T) {
	f := newFake(t)
	lim := rate.NewLimiter(rate.Every(time.Hour), 3) // domain lookup, login, agent session
	s := session(t, f, func(c *lpchat.Config) { c.Budget = lim })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	_, err := s.IncomingRequests(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("waited %s: the limiter should refuse at once", waited)
	}
	if n := len(f.requests("/incomingRequests")); n != 0 {
		t.Errorf("%d incomingRequests sent without a token", n)
	}
}

// A budget's own refusal ends the call, unretried, and wraps its error.
func TestBudgetRefusalEndsCall(t *testing.T) {
	f := newFake(t)
	b := &testBudget{}
	s := session(t, f, func(c *lpchat.Config) { c.Budget = b })
	waits := b.waits.Load()
	b.refuse.Store(true)
	_, err := s.IncomingRequests(context.Background())
	if !errors.Is(err, errRefused) {
		t.Fatalf("err = %v, want the budget's error", err)
	}
	if got := b.waits.Load() - waits; got != 1 {
		t.Errorf("budget asked %d times, want 1", got)
	}
	if n := len(f.requests("/incomingRequests")); n != 0 {
		t.Errorf("%d incomingRequests sent against the budget's refusal", n)
	}
}
