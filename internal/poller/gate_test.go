package poller_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// inFlight counts the requests in flight whose path contains part, and the
// most at once; each is held for hold, so that logins without a gate would
// overlap.
type inFlight struct {
	part string
	hold time.Duration
	mu   sync.Mutex
	now  int
	most int
	seen int
}

func (f *inFlight) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, f.part) {
			next.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		f.now++
		f.seen++
		f.most = max(f.most, f.now)
		f.mu.Unlock()
		time.Sleep(f.hold)
		next.ServeHTTP(w, r)
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
	})
}

func (f *inFlight) counts() (seen, most int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen, f.most
}

// TestWorkersShareAStartGate: agents sharing a gate of one log in one at a
// time, and all of them come up.
func TestWorkersShareAStartGate(t *testing.T) {
	logins := &inFlight{part: "/login", hold: 100 * time.Millisecond}
	e := newEnvWith(t, lpsim.Config{}, logins.wrap)
	gate := poller.NewStartGate(1)
	var workers []*poller.Worker
	for _, name := range []string{login, loginTwo} {
		w := e.worker(config(func(c *poller.Config) {
			c.Agent.LoginName, c.Agent.Credentials.Username = name, name
			c.StartGate = gate
		}), nil, nil, nil)
		run(t, w)
		workers = append(workers, w)
	}
	for i, w := range workers {
		waitUntil(t, "both agents up", func() string {
			if !w.Healthy(time.Minute) {
				return fmt.Sprintf("worker %d has not polled", i)
			}
			return ""
		})
	}
	if seen, most := logins.counts(); seen < 2 || most != 1 {
		t.Errorf("%d logins, at most %d at once; want 2 or more, one at a time", seen, most)
	}
}
