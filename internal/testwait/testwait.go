// Package testwait is the one polling helper of the project's tests: check
// a condition until it holds or a timeout passes, never a bare sleep
// (STYLE.md). It imports nothing of the project, so any package's tests can
// use it without pulling in a NATS server.
package testwait

import (
	"errors"
	"testing"
	"time"
)

// Interval is how often a condition is checked again: short enough that
// tests finish promptly, long enough not to burn the two shared CPUs.
const Interval = 10 * time.Millisecond

// Until calls check every Interval until it returns nil. When timeout
// passes first, it fails t with the last error check returned, which should
// say what is still missing.
func Until(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
			return
		}
		time.Sleep(Interval)
	}
}

// True is Until for a condition that cannot say what it misses: it fails t
// with "waiting for <what>".
func True(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Until(t, timeout, func() error {
		if cond() {
			return nil
		}
		return errors.New("waiting for " + what)
	})
}
