package testwait_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/testwait"
)

// recorder is a testing.TB that records Fatalf instead of stopping.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestUntilReturnsOnceTheCheckPasses(t *testing.T) {
	r := &recorder{TB: t}
	calls := 0
	testwait.Until(r, 5*time.Second, func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if r.failed != "" || calls != 3 {
		t.Fatalf("calls = %d, failed = %q; want 3 calls and no failure", calls, r.failed)
	}
}

func TestUntilFailsWithTheLastError(t *testing.T) {
	r := &recorder{TB: t}
	calls := 0
	testwait.Until(r, 30*time.Millisecond, func() error {
		calls++
		return fmt.Errorf("missing item %d", calls)
	})
	if !strings.Contains(r.failed, fmt.Sprintf("missing item %d", calls)) || calls < 2 {
		t.Fatalf("failed = %q after %d calls; want the last error after several tries", r.failed, calls)
	}
}

func TestTrueNamesWhatItWaitedFor(t *testing.T) {
	r := &recorder{TB: t}
	testwait.True(r, 20*time.Millisecond, "the moon", func() bool { return false })
	if !strings.Contains(r.failed, "waiting for the moon") {
		t.Fatalf("failed = %q; want it to name what it waited for", r.failed)
	}
	r = &recorder{TB: t}
	testwait.True(r, time.Second, "the sun", func() bool { return true })
	if r.failed != "" {
		t.Fatalf("failed = %q for a condition that holds", r.failed)
	}
}
