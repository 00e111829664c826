package poller_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/time/rate"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// TestBudgetCoversEveryRequest: every request that reaches the simulator
// took one token of the account's budget: the worker's own, the calls the
// command consumer makes straight on the worker's session, the domain
// lookup and the client's retries. The budget is the client's
// (lpchat.Config.Budget): the poller does not take tokens of its own. A limiter that never refills (limit 0)
// spends its burst one token per request, so what it spent must equal what
// the simulator saw.
func TestBudgetCoversEveryRequest(t *testing.T) {
	var atSim atomic.Int64
	e := newEnvWith(t, lpsim.Config{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			atSim.Add(1)
			h.ServeHTTP(w, r)
		})
	})
	col := e.collect()
	const tokens = 100000
	budget := rate.NewLimiter(0, tokens)
	client, err := lpchat.New(lpchat.Config{DomainURL: e.srv.URL, AllowInsecureHTTP: true, Account: acct,
		Retry: tinyRetry(), Budget: budget})
	if err != nil {
		t.Fatalf("lpchat.New: %v", err)
	}
	w := e.worker(config(nil), client, nil, nil)
	stop := run(t, w)
	chat := acceptedChat(t, e, col)

	// What a command does: call the worker's session directly, here once
	// after a 503 the client retries on its own.
	as := sessionOf(t, w)
	e.sim.InjectFault(lpsim.Fault{Method: http.MethodPost, PathContains: "/info/agentTyping", Status: http.StatusServiceUnavailable})
	if err := as.SetAgentTyping(context.Background(), chat, true); err != nil {
		t.Fatalf("SetAgentTyping after one 503: %v", err)
	}
	if _, err := as.SendLine(context.Background(), chat, lpchat.Line{Text: "from a command"}); err != nil {
		t.Fatalf("SendLine: %v", err)
	}
	e.visitorLine(chat, "counted")
	waitLine(col, chat, "counted")
	stop()

	spent := int64(tokens - budget.Tokens())
	if seen := atSim.Load(); spent != seen {
		t.Errorf("budget spent %d tokens for %d requests at the simulator", spent, seen)
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
