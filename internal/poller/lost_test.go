package poller_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// server5xx is a 5xx that outlasts the client's retries on every one of
// the ticks the worker tolerates (5 in a row, each 1 try + 2 retries).
const server5xx = 5 * 3

// talking runs a worker against a simulator of cfg until its chat has the
// line "before"; it returns the chat and the first agent session's id.
func talking(t *testing.T, cfg lpsim.Config) (e *env, col *collector, w *poller.Worker, chat, first string) {
	t.Helper()
	e = newEnv(t, cfg)
	col = e.collect()
	w = e.worker(config(nil), nil, nil, nil)
	run(t, w)
	chat = acceptedChat(t, e, col)
	e.visitorLine(chat, "before")
	waitLine(col, chat, "before")
	return e, col, w, chat, sessionOf(t, w).ID
}

// comesBack checks the continuity rule after a lost session: agent.session
// "lost" for the first session, "restarted" with a new one, and the chat's
// lines, one typed while the session was gone, each once and in order.
func comesBack(t *testing.T, e *env, col *collector, w *poller.Worker, chat, first string, wantReason string) {
	t.Helper()
	e.visitorLine(chat, "while lost")
	lost := col.waitEvent(events.AgentSession, "", isSession(events.SessionLost)).Data.(events.SessionData)
	if lost.AgentSessionID != first || !strings.Contains(lost.Reason, wantReason) {
		t.Errorf("lost %+v, want session %s and a reason with %q", lost, first, wantReason)
	}
	re := col.waitEvent(events.AgentSession, "", isSession(events.SessionRestarted)).Data.(events.SessionData)
	if re.AgentSessionID == first || re.AgentSessionID == "" {
		t.Errorf("restarted session %q, want a new one", re.AgentSessionID)
	}
	waitLine(col, chat, "while lost")
	e.visitorLine(chat, "after")
	waitLine(col, chat, "after")
	wantLines(t, col, chat, "before", "while lost", "after")
	if id := sessionOf(t, w).ID; id != re.AgentSessionID {
		t.Errorf("polling session %s, want the restarted %s", id, re.AgentSessionID)
	}
	checkStream(t, col.all())
}

// TestReapedSessionComesBack: whatever status the service gives calls on
// an agent session it has reaped, the worker takes it as lost and comes
// back with a new one.
func TestReapedSessionComesBack(t *testing.T) {
	for _, status := range []int{401, 403, 404, 410, 400} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e, col, w, chat, first := talking(t, lpsim.Config{ReapedStatus: status, StrictCookies: true})
			if err := e.sim.ExpireAgentSession(acct, login); err != nil {
				t.Fatalf("ExpireAgentSession: %v", err)
			}
			comesBack(t, e, col, w, chat, first, fmt.Sprint(status))
		})
	}
}

// TestSessionCallRefusedComesBack: a session call of the tick (ringing) or
// of the sync (chatSessions) that says the session is gone, or that fails
// with 5xx past the retry policy tick after tick, is the restart path too.
// The old session still lives here, so the chat goes on under the new one
// through chatSessions.
func TestSessionCallRefusedComesBack(t *testing.T) {
	for _, tc := range []struct {
		path   string
		status int
		count  int
	}{
		{"/incomingRequests", 403, 1},
		{"/incomingRequests", 410, 1},
		{"/incomingRequests", 500, server5xx},
		{"/chatSessions", 403, 1},
		{"/chatSessions", 400, 1},
		{"/chatSessions", 502, server5xx},
	} {
		t.Run(fmt.Sprint(strings.TrimPrefix(tc.path, "/"), "/", tc.status), func(t *testing.T) {
			e, col, w, chat, first := talking(t, lpsim.Config{StrictCookies: true})
			e.sim.InjectFault(lpsim.Fault{Method: http.MethodGet, PathContains: tc.path, Status: tc.status, Count: tc.count})
			comesBack(t, e, col, w, chat, first, fmt.Sprint(tc.status))
		})
	}
}

// TestResumeRefusedStartsNew: after a bridge restart, a saved agent session
// that answers as gone (any status of a reaped session), or 5xx past the
// retry policy on two resume attempts, is given up: a new session starts
// and the chat goes on from its cursor.
func TestResumeRefusedStartsNew(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reaped int // the saved session is reaped and answers this
		fault  int // else its chatSessions answer this, 2 attempts long
	}{
		{"reaped 401", 401, 0},
		{"reaped 403", 403, 0},
		{"reaped 404", 404, 0},
		{"reaped 410", 410, 0},
		{"reaped 400", 400, 0},
		{"5xx", 0, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Not strict for 5xx: a new client lacks the old session's cookie,
			// and the 401 of that would give the session up by itself.
			e := newEnv(t, lpsim.Config{ReapedStatus: tc.reaped, StrictCookies: tc.reaped != 0})
			col := e.collect()
			stop1 := run(t, e.worker(config(nil), nil, nil, nil))
			chat := acceptedChat(t, e, col)
			e.visitorLine(chat, "before")
			waitLine(col, chat, "before")
			stop1()
			if tc.reaped != 0 {
				if err := e.sim.ExpireAgentSession(acct, login); err != nil {
					t.Fatalf("ExpireAgentSession: %v", err)
				}
			} else {
				e.sim.InjectFault(lpsim.Fault{Method: http.MethodGet, PathContains: "/chatSessions", Status: tc.fault, Count: 2 * 3})
			}
			e.visitorLine(chat, "while down")
			w := e.worker(config(nil), nil, nil, nil)
			run(t, w)
			re := col.waitEvent(events.AgentSession, "", isSession(events.SessionRestarted)).Data.(events.SessionData)
			if !strings.Contains(re.Reason, "could not be resumed") {
				t.Errorf("restarted reason %q, want it to say the old session could not be resumed", re.Reason)
			}
			waitLine(col, chat, "while down")
			e.visitorLine(chat, "after")
			waitLine(col, chat, "after")
			wantLines(t, col, chat, "before", "while down", "after")
			checkStream(t, col.all())
		})
	}
}

// TestReloginBeforeSessionTTL: the service's refresh does not extend the
// login (FixedLoginTTL); the worker logs in again at 90 % of sessionTTl,
// before the bearer dies, and keeps its agent session: no agent.session
// "lost", and the chat goes on.
func TestReloginBeforeSessionTTL(t *testing.T) {
	const ttl = 2 * time.Second
	e := newEnv(t, lpsim.Config{LoginTTL: ttl, FixedLoginTTL: true, StrictCookies: true})
	col := e.collect()
	logins := &loginCounter{}
	client := e.client(func(rt http.RoundTripper) http.RoundTripper { logins.inner = rt; return logins })
	w := e.worker(config(func(c *poller.Config) { c.RefreshEvery = 4 * tickEvery }), client, nil, nil)
	run(t, w)
	chat := acceptedChat(t, e, col)
	first := sessionOf(t, w).ID
	e.visitorLine(chat, "before")
	waitLine(col, chat, "before")
	waitUntil(t, "two early logins", func() string {
		if n := logins.n.Load(); n < 3 {
			return fmt.Sprint(n, " logins")
		}
		return ""
	})
	e.visitorLine(chat, "after")
	waitLine(col, chat, "after")
	wantLines(t, col, chat, "before", "after")
	if st := sessionStates(col); len(st) != 1 || st[0].State != events.SessionStarted {
		t.Errorf("agent.session events %+v, want only the start: the login was renewed in time", st)
	}
	if id := sessionOf(t, w).ID; id != first {
		t.Errorf("agent session %s, want the first one %s kept", id, first)
	}
	checkStream(t, col.all())
}
