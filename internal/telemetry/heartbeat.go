package telemetry

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Heartbeat records when something last made progress (a poll tick that
// completed, a publish that was acknowledged). It is safe for concurrent
// use and its zero value is ready; pass its Last to StallCheck.
type Heartbeat struct {
	last atomic.Int64 // unix nanoseconds; 0 = never
}

// Beat records progress now.
func (b *Heartbeat) Beat() { b.last.Store(time.Now().UnixNano()) }

// Last is the time of the last Beat, the zero time before the first.
func (b *Heartbeat) Last() time.Time {
	n := b.last.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// StallCheck returns a readiness check that fails with ErrStalled when
// last() is more than within ago. Until the first progress (last() returns
// the zero time) it counts from the moment StallCheck was called, so a
// starting bridge gets within to make its first progress.
func StallCheck(last func() time.Time, within time.Duration) func(context.Context) error {
	created := time.Now()
	return func(context.Context) error {
		t := last()
		if t.IsZero() {
			t = created
		}
		if age := time.Since(t); age > within {
			return fmt.Errorf("%w for %s (limit %s)", ErrStalled, age.Round(time.Millisecond), within)
		}
		return nil
	}
}
