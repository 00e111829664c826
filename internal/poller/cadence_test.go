package poller_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// TestTicksAreFixedRate: a tick is due PollInterval after the one before,
// however long the tick took, so a slow service does not stretch the gap a
// line waits for its poll. Here every request takes 20 ms, a tick (two
// requests) 40 ms or more: ticks that waited a whole interval after each
// tick would come every 140 ms or more, at most 14 in 2 s instead of 20.
func TestTicksAreFixedRate(t *testing.T) {
	const every, window, latency = 100 * time.Millisecond, 2 * time.Second, 20 * time.Millisecond
	e := newEnvWith(t, lpsim.Config{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(latency)
			h.ServeHTTP(w, r)
		})
	})
	col := e.collect()
	rc := &requestCounter{}
	client := e.client(func(rt http.RoundTripper) http.RoundTripper { rc.inner = rt; return rc })
	w := e.worker(config(func(c *poller.Config) { c.PollInterval = every }), client, nil, nil)
	run(t, w)
	acceptedChat(t, e, col)
	col.waitEvent(events.AgentRinging, "", func(d any) bool { return d.(events.RingingData).Count == 0 })

	ticks0, start := rc.ticks(), time.Now()
	time.Sleep(window)
	ticks, took := rc.ticks()-ticks0, time.Since(start)
	slots := int64(took / every)
	t.Logf("%d ticks in %v at %v (%d slots)", ticks, took, every, slots)
	// A few slots may be skipped when the shared machine stalls a tick.
	if ticks < slots*85/100 {
		t.Errorf("%d ticks in %v, want about %d: the gap grows with the tick's own time", ticks, took, slots)
	}
	if ticks > slots+1 {
		t.Errorf("%d ticks in %v, want at most %d: ticks came faster than PollInterval", ticks, took, slots+1)
	}
}
