package poller_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
)

const (
	appBot    = "bot.app"
	appKey    = "7c1f3a2b9d"
	appSecret = "app-secret-S3CRET"
)

func isSession(state string) func(any) bool {
	return func(d any) bool { return d.(events.SessionData).State == state }
}

// sessionStatesOf lists the agent.session events of one agent token.
func sessionStatesOf(col *collector, agent string) []events.SessionData {
	var out []events.SessionData
	for _, g := range col.of(events.AgentSession, "") {
		if strings.Contains(g.Subject, "."+agent+".") {
			out = append(out, g.Data.(events.SessionData))
		}
	}
	return out
}

// sessionStates lists the states of the agent.session events that arrived.
func sessionStates(col *collector) []events.SessionData {
	var out []events.SessionData
	for _, g := range col.of(events.AgentSession, "") {
		out = append(out, g.Data.(events.SessionData))
	}
	return out
}

// TestLoginRefusedForGood: a login LivePerson says never to retry (451
// blocked; 401 for a wrong password or a wrong OAuth2 app secret) is
// published once as agent.session "error" with the status in the reason
// and no session id; the worker is Failed with that reason and never logs
// in again, though the service would now let it in.
func TestLoginRefusedForGood(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		fault  bool // refused by an injected fault (else by the credentials)
		creds  lpchat.Credentials
	}{
		{"blocked", http.StatusUnavailableForLegalReasons, true, lpchat.Credentials{}},
		{"unauthorized", http.StatusUnauthorized, true, lpchat.Credentials{}},
		{"wrong password", http.StatusUnauthorized, false, lpchat.Credentials{Username: login, Password: "wrong"}},
		{"wrong app secret", http.StatusUnauthorized, false, lpchat.Credentials{Username: appBot, AppKey: appKey,
			Secret: "wrong", AccessToken: "dummy", AccessTokenSecret: "dummy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, lpsim.Config{})
			if err := e.sim.AddAgent(acct, lpsim.AgentSpec{LoginName: appBot, AppKey: appKey, Secret: appSecret,
				AccessToken: "dummy", AccessTokenSecret: "dummy", SkillIDs: []string{"31100810"}}); err != nil {
				t.Fatalf("AddAgent: %v", err)
			}
			if tc.fault {
				e.sim.InjectFault(lpsim.Fault{Method: http.MethodPost, PathContains: "/login", Status: tc.status})
			}
			logins := &loginCounter{}
			client := e.client(func(rt http.RoundTripper) http.RoundTripper { logins.inner = rt; return logins })
			col := e.collect()
			w := e.worker(config(func(c *poller.Config) {
				if tc.creds.Username != "" {
					c.Agent.Credentials = tc.creds
				}
			}), client, nil, nil)
			run(t, w)

			got := col.waitEvent(events.AgentSession, "", isSession(events.SessionError)).Data.(events.SessionData)
			if !strings.Contains(got.Reason, strconv.Itoa(tc.status)) || got.AgentSessionID != "" {
				t.Errorf("error event %+v: want the refusal (%d) as reason and no session id", got, tc.status)
			}
			waitUntil(t, "failed", func() string {
				if r := w.Failed(); !strings.Contains(r, strconv.Itoa(tc.status)) {
					return "Failed() = " + strconv.Quote(r)
				}
				return ""
			})
			// Several relogin backoffs (20, 40 ms) pass: no second try.
			waitUntil(t, "ticks of a healthy neighbour", neighbourTicks(t, e, 10))
			if n := logins.n.Load(); n != 1 {
				t.Errorf("%d login requests, want 1: a refusal for good is not retried", n)
			}
			if st := sessionStatesOf(col, token); len(st) != 1 || w.Session() != nil {
				t.Errorf("agent.session events %+v, session %v: want the one error and no session", st, w.Session())
			}
			checkStream(t, col.all())
		})
	}
}

// TestLoginRefusedForNowIsRetried: a login that fails for a while (5xx) is
// no error and does not fail the agent: it is retried and the session starts.
func TestLoginRefusedForNowIsRetried(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	// One whole login: the first try and the client's own retries.
	e.sim.InjectFault(lpsim.Fault{Method: http.MethodPost, PathContains: "/login", Status: http.StatusServiceUnavailable,
		Count: 1 + len(tinyRetry().ServerBackoff)})
	col := e.collect()
	w := e.worker(config(nil), nil, nil, nil)
	run(t, w)
	col.waitEvent(events.AgentSession, "", isSession(events.SessionStarted))
	for _, d := range sessionStates(col) {
		if d.State == events.SessionError {
			t.Errorf("error event %+v for a login that only failed for a while", d)
		}
	}
	if r := w.Failed(); r != "" {
		t.Errorf("Failed() = %q, want \"\"", r)
	}
	checkStream(t, col.all())
}

// neighbourTicks runs a second, healthy worker (bot.two) and reports when
// it has made n ticks: time for the first one's backoffs to pass, counted
// in work done rather than slept.
func neighbourTicks(t *testing.T, e *env, n int64) func() string {
	t.Helper()
	rc := &requestCounter{}
	client := e.client(func(rt http.RoundTripper) http.RoundTripper { rc.inner = rt; return rc })
	run(t, e.worker(config(func(c *poller.Config) {
		c.Agent.LoginName = loginTwo
		c.Agent.Credentials = lpchat.Credentials{Username: loginTwo, Password: password}
	}), client, nil, nil))
	return func() string {
		if got := rc.ring.Load(); got < n {
			return strconv.FormatInt(got, 10) + " ticks"
		}
		return ""
	}
}
