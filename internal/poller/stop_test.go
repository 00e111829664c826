package poller_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// slowCall makes the next ringing-count request of the worker slow (an
// lpsim.Fault with Latency) and tells when that request reached the
// simulator.
type slowCall struct {
	mu      sync.Mutex
	armed   bool
	entered chan struct{}
}

func newSlowCall() *slowCall { return &slowCall{entered: make(chan struct{})} }

func isRingRequest(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/incomingRequests")
}

// wrap sees every request before the simulator (and its faults) does. It
// holds mu through a ringing-count request, so that arm never races one.
func (s *slowCall) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isRingRequest(r) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.armed {
				s.armed = false
				close(s.entered)
			}
		}
		h.ServeHTTP(w, r)
	})
}

// arm delays the next ringing-count request by latency.
func (s *slowCall) arm(sim *lpsim.Simulator, latency time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sim.InjectFault(lpsim.Fault{Method: http.MethodGet, PathContains: "/incomingRequests", Latency: latency})
	s.armed = true
}

func (s *slowCall) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-s.entered:
	case <-time.After(waitFor):
		t.Fatal("the slow request never reached the simulator")
	}
}

// running is a Worker's Run in a goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

// start runs w until the test ends (then it cancels Run's context).
func start(t *testing.T, w *poller.Worker) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		case <-time.After(waitFor):
			t.Error("Run did not return after cancel")
		}
	})
	return r
}

// wait waits until Run returned, which must be with nil.
func (r *running) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("%s: Run = %v, want nil", what, err)
		}
	case <-time.After(waitFor):
		t.Fatalf("%s: Run did not return", what)
	}
}

// settled waits until the collector has every message of the stream.
func settled(t *testing.T, e *env, col *collector) []got {
	t.Helper()
	var all []got
	waitUntil(t, "collector caught up with the stream", func() string {
		info, err := e.stream.Info(context.Background())
		if err != nil {
			return err.Error()
		}
		all = col.all()
		if uint64(len(all)) != info.State.Msgs {
			return "not yet"
		}
		return ""
	})
	return all
}

// TestStopFinishesTheTick: Stop during a tick blocked in a slow call lets
// the tick complete: what it read is published and its cursor saved, and
// only then does Run return.
func TestStopFinishesTheTick(t *testing.T) {
	slow := newSlowCall()
	e := newEnvWith(t, lpsim.Config{}, slow.wrap)
	col := e.collect()
	w := e.worker(config(nil), nil, nil, nil)
	r := start(t, w)
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "before")
	waitLine(col, chat, "before")

	slow.arm(e.sim, time.Second)
	slow.waitEntered(t)
	e.visitorLine(chat, "during the slow call")
	w.Stop()
	r.wait(t, "after Stop")

	all := settled(t, e, col)
	var line *events.LineData
	for _, g := range all {
		if d, ok := g.Data.(events.LineData); ok && g.ChatID == chat && d.Text == "during the slow call" {
			line = &d
		}
	}
	if line == nil {
		t.Fatalf("the line read by the tick in progress at Stop was not published")
	}
	cur, ok, err := e.store.Cursor(context.Background(), acct, token, chat)
	if err != nil || !ok || cur.LastEventID != line.EventID {
		t.Errorf("cursor after Stop = %+v (found %v, %v); want it at the line's event %d", cur, ok, err, line.EventID)
	}
	wantLines(t, col, chat, "before", "during the slow call")
	checkStream(t, all)

	// A stopped worker does not run again.
	again := make(chan error, 1)
	go func() { again <- w.Run(context.Background()) }()
	select {
	case err := <-again:
		if err != nil {
			t.Errorf("Run after Stop = %v, want nil", err)
		}
	case <-time.After(waitFor):
		t.Error("Run after Stop did not return")
	}
}

// TestCancelAbortsTheTick: cancelling Run's context is the hard abort: the
// slow call is cut off (Run returns long before the service would answer),
// nothing of the cut-off tick is published, and the cursor stays where the
// last published event left it.
func TestCancelAbortsTheTick(t *testing.T) {
	slow := newSlowCall()
	e := newEnvWith(t, lpsim.Config{}, slow.wrap)
	col := e.collect()
	w := e.worker(config(nil), nil, nil, nil)
	r := start(t, w)
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "before")
	before := col.waitEvent(events.ChatLine, chat, func(d any) bool { return d.(events.LineData).Text == "before" })
	waitCursor(t, e, chat, before.Data.(events.LineData).EventID)

	slow.arm(e.sim, 10*waitFor) // far longer than the wait for Run below
	slow.waitEntered(t)
	e.visitorLine(chat, "during the slow call")
	r.cancel()
	r.wait(t, "after cancel")

	settled(t, e, col)
	wantLines(t, col, chat, "before")
	cur, _, err := e.store.Cursor(context.Background(), acct, token, chat)
	if err != nil || cur.LastEventID != before.Data.(events.LineData).EventID {
		t.Errorf("cursor after the abort = %+v, %v; want it at the last published line", cur, err)
	}
}
