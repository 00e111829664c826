package telemetry_test

import (
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// fakeClock is a time source the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const busyMetric = "lpbridge_event_publish_busy_seconds_total"

// Busy time is the time with at least one publish in flight: overlapping
// publishes count once, idle time not at all, and a scrape during a
// publish sees the stretch so far.
func TestPublishBusyTimeCountsOverlapOnce(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	m := newMetrics(t, telemetry.WithClock(clock.Now))
	busy := func() float64 { t.Helper(); return value(t, m.Registry(), busyMetric, nil) }

	if got := busy(); got != 0 {
		t.Fatalf("busy before any publish = %v, want 0", got)
	}
	first := m.PublishStarted()
	clock.advance(time.Second)
	second := m.PublishStarted() // overlaps the first
	clock.advance(time.Second)
	first()
	if got := busy(); got != 2 {
		t.Errorf("busy with one publish still in flight = %v, want 2", got)
	}
	clock.advance(time.Second)
	second()
	if got := busy(); got != 3 {
		t.Errorf("busy after both = %v, want 3 (the overlap counted once)", got)
	}
	clock.advance(10 * time.Second) // idle
	if got := busy(); got != 3 {
		t.Errorf("busy after idle time = %v, want still 3", got)
	}
	done := m.PublishStarted()
	clock.advance(500 * time.Millisecond)
	done()
	if got := busy(); got != 3.5 {
		t.Errorf("busy after a third publish = %v, want 3.5", got)
	}
}

func TestPublishBusyTimeUnderConcurrency(t *testing.T) {
	m := newMetrics(t)
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				m.PublishStarted()()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if got := value(t, m.Registry(), busyMetric, nil); got <= 0 || got > elapsed {
		t.Errorf("busy = %v s, want more than 0 and at most the %v s the publishes took", got, elapsed)
	}
}

func TestEventsStoredAfterFailureCount(t *testing.T) {
	m := newMetrics(t)
	m.EventsStoredAfterFailure(2)
	m.EventsStoredAfterFailure(1)
	if got := value(t, m.Registry(), "lpbridge_events_stored_after_failure_total", nil); got != 3 {
		t.Errorf("stored after failure = %v, want 3", got)
	}
}
