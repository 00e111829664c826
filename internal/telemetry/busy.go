package telemetry

import (
	"sync"
	"time"
)

// busyClock adds up the time during which at least one operation is in
// flight: overlapping operations count once, so busy time over wall time is
// the share of time the operation kept the process busy, whatever the
// concurrency. A mutex rather than atomics: the count and the start of the
// busy stretch must change together, and both are touched twice per call.
type busyClock struct {
	now  func() time.Time
	done func() // end, bound once: start allocates nothing

	mu       sync.Mutex
	inFlight int
	since    time.Time     // start of the current busy stretch, while inFlight > 0
	total    time.Duration // of the stretches that ended
}

func newBusyClock(now func() time.Time) *busyClock {
	c := &busyClock{now: now}
	c.done = c.end
	return c
}

// start marks one operation in flight; the returned func ends it.
func (c *busyClock) start() func() {
	c.mu.Lock()
	if c.inFlight == 0 {
		c.since = c.now()
	}
	c.inFlight++
	c.mu.Unlock()
	return c.done
}

func (c *busyClock) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight--
	if c.inFlight == 0 {
		c.total += c.now().Sub(c.since)
	}
}

// seconds is the busy time so far, the current stretch included, so a
// scrape during a long busy stretch sees it grow.
func (c *busyClock) seconds() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.total
	if c.inFlight > 0 {
		t += c.now().Sub(c.since)
	}
	return t.Seconds()
}
