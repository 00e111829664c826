package natstest

import (
	"testing"
	"time"
)

// pollInterval is how often Eventually re-checks its condition: short enough
// that tests finish promptly, long enough not to burn the shared CPUs.
const pollInterval = 10 * time.Millisecond

// Eventually calls check until it returns nil or timeout passes; then it
// fails the test with the last error. Use it instead of sleeping.
func Eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("natstest: condition not met within %s: %v", timeout, err)
		}
		time.Sleep(pollInterval)
	}
}
