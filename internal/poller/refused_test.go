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

func isSession(state string) func(any) bool {
	return func(d any) bool { return d.(events.SessionData).State == state }
}

// sessionStates lists the states of the agent.session events that arrived.
func sessionStates(col *collector) []events.SessionData {
	var out []events.SessionData
	for _, g := range col.of(events.AgentSession, "") {
		out = append(out, g.Data.(events.SessionData))
	}
	return out
}

// TestLoginRefusedIsSessionError: each login the service refuses for good
// (451 blocked, 401) is published as agent.session "error" with the status
// in the reason and no session id; the worker keeps its slow retries and,
// once the service lets it in, starts the session. A login that fails for a
// while (5xx) is no error: it is only retried.
func TestLoginRefusedIsSessionError(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		faults     int // refused login requests
		wantErrors int
	}{
		{"blocked", http.StatusUnavailableForLegalReasons, 2, 2},
		{"unauthorized", http.StatusUnauthorized, 2, 2},
		// One whole login: the first try and the client's own retries.
		{"server down", http.StatusServiceUnavailable, 1 + len(tinyRetry().ServerBackoff), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, lpsim.Config{})
			e.sim.InjectFault(lpsim.Fault{Method: http.MethodPost, PathContains: "/login", Status: tc.status, Count: tc.faults})
			col := e.collect()
			run(t, e.worker(config(nil), nil, nil, nil))

			col.waitEvent(events.AgentSession, "", isSession(events.SessionStarted))
			var errs int
			for _, d := range sessionStates(col) {
				if d.State != events.SessionError {
					continue
				}
				errs++
				if !strings.Contains(d.Reason, strconv.Itoa(tc.status)) || d.AgentSessionID != "" {
					t.Errorf("error event %+v: want the refusal (%d) as reason and no session id", d, tc.status)
				}
			}
			if errs != tc.wantErrors {
				t.Errorf("%d agent.session error events before the session started, want %d: %+v", errs, tc.wantErrors, sessionStates(col))
			}
			checkStream(t, col.all())
		})
	}
}

// TestBadPasswordIsSessionError: the simulator's own 401 for a wrong
// password is an agent.session "error", and no session starts.
func TestBadPasswordIsSessionError(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	run(t, e.worker(config(func(c *poller.Config) {
		c.Agent.Credentials = lpchat.Credentials{Username: login, Password: "wrong"}
	}), nil, nil, nil))

	got := col.waitEvent(events.AgentSession, "", isSession(events.SessionError)).Data.(events.SessionData)
	if !strings.Contains(got.Reason, "401") {
		t.Errorf("reason %q, want the 401 of the login", got.Reason)
	}
	// A second refused try makes a second event: the worker goes on trying.
	waitUntil(t, "a second refused login", func() string {
		n := 0
		for _, d := range sessionStates(col) {
			if d.State != events.SessionError {
				return "a session state other than error: " + d.State
			}
			n++
		}
		if n < 2 {
			return "only one error event"
		}
		return ""
	})
	checkStream(t, col.all())
}
