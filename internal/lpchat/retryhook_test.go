package lpchat_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// retryCall is one call of Config.OnRetry.
type retryCall struct {
	operation string
	status    int
}

// recordRetries returns a config modifier that records OnRetry's calls.
func recordRetries() (func(*lpchat.Config), func() []retryCall) {
	var mu sync.Mutex
	var calls []retryCall
	mod := func(c *lpchat.Config) {
		c.OnRetry = func(operation string, status int) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, retryCall{operation, status})
		}
	}
	return mod, func() []retryCall {
		mu.Lock()
		defer mu.Unlock()
		return append([]retryCall(nil), calls...)
	}
}

func TestOnRetryHearsEveryRetry(t *testing.T) {
	f := newFake(t)
	mod, calls := recordRetries()
	s := session(t, f, mod)
	var n atomic.Int32
	f.handle("GET /agentSession/"+testASID+"/incomingRequests",
		statusSequence(&n, `{"incomingRequests":{"ringingCount":"1"}}`, 503, 429, 200))
	if _, err := s.IncomingRequests(testCtx(t)); err != nil {
		t.Fatalf("IncomingRequests: %v", err)
	}
	got := calls()
	if len(got) != 2 {
		t.Fatalf("OnRetry called %d times (%+v), want 2: after the 503 and the 429", len(got), got)
	}
	for i, want := range []int{503, 429} {
		if c := got[i]; c.status != want || c.operation != string(lpchat.OpIncomingRequests) {
			t.Errorf("retry %d = %+v, want %s after %d", i, c, lpchat.OpIncomingRequests, want)
		}
	}
}

func TestOnRetryNotCalledWithoutRetry(t *testing.T) {
	f := newFake(t)
	mod, calls := recordRetries()
	s := session(t, f, mod)
	var n atomic.Int32
	f.handle("GET /agentSession/"+testASID+"/incomingRequests", statusSequence(&n, `{}`, 404))
	if _, err := s.IncomingRequests(testCtx(t)); !errors.Is(err, lpchat.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if got := calls(); len(got) != 0 {
		t.Errorf("OnRetry called %+v for a final 404", got)
	}
}
