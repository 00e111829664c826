package poller_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/time/rate"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// TestBudgetBeforeEveryRequest: the worker takes a token of the account's
// budget before every request it makes. A limiter that never refills
// (limit 0) spends its burst one token per request, so what it spent equals
// what the client sent.
func TestBudgetBeforeEveryRequest(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	rc := &requestCounter{}
	client := e.client(func(rt http.RoundTripper) http.RoundTripper { rc.inner = rt; return rc })
	const tokens = 100000
	budget := rate.NewLimiter(0, tokens)
	w := e.worker(config(func(c *poller.Config) { c.Budget = budget }), client, nil, nil)
	stop := run(t, w)
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "counted")
	waitLine(col, chat, "counted")
	stop()

	spent := int64(tokens - budget.Tokens())
	// The domain lookup is the client's own business (done inside Login).
	if sent := rc.all.Load(); spent != sent-1 {
		t.Errorf("budget spent %d tokens for %d requests (+1 domain lookup)", spent, sent)
	}
	if spent < 10 {
		t.Errorf("budget spent only %d tokens", spent)
	}
}

// TestRefreshKeepsLogin: the login is refreshed every RefreshEvery; a
// refresh the service refuses (401) leads to a new login, not to a lost
// agent session.
func TestRefreshKeepsLogin(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	rc := &pathCounter{suffixes: []string{"/login", "/refresh"}}
	client := e.client(func(rt http.RoundTripper) http.RoundTripper { rc.inner = rt; return rc })
	w := e.worker(config(func(c *poller.Config) { c.RefreshEvery = 3 * tickEvery }), client, nil, nil)
	run(t, w)
	chat := acceptedChat(t, e, col)
	waitUntil(t, "refreshes", func() string {
		if rc.count("/refresh") < 2 {
			return "waiting"
		}
		return ""
	})
	if n := rc.count("/login"); n != 1 {
		t.Errorf("%d logins while refreshes worked, want 1", n)
	}

	e.sim.InjectFault(lpsim.Fault{PathContains: "/refresh", Status: http.StatusUnauthorized})
	waitUntil(t, "re-login", func() string {
		if rc.count("/login") < 2 {
			return "waiting"
		}
		return ""
	})
	e.visitorLine(chat, "after the new login")
	waitLine(col, chat, "after the new login")
	if n := len(col.of(events.AgentSession, "")); n != 1 {
		t.Errorf("%d agent.session events, want only the start", n)
	}
}

// pathCounter counts requests whose path ends in one of suffixes.
type pathCounter struct {
	inner    http.RoundTripper
	suffixes []string
	mu       sync.Mutex
	n        map[string]int
}

func (p *pathCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	for _, s := range p.suffixes {
		if strings.HasSuffix(r.URL.Path, s) {
			if p.n == nil {
				p.n = map[string]int{}
			}
			p.n[s]++
		}
	}
	p.mu.Unlock()
	return p.inner.RoundTrip(r)
}

func (p *pathCounter) count(suffix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[suffix]
}
