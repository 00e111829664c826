package poller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/state"
)

// How the worker tells that its agent session is gone and when its login
// must be renewed. The statuses are lpchat's one classification
// (lpchat.ErrSessionLost); this file adds what only the worker can see over
// time: 5xx that outlast the retry policy, the login's sessionTTl, and
// logins refused for good.

// sessionServerFailures is how many session calls in a row (ticks or
// resume attempts) may fail with 5xx past the retry policy before the
// session counts as gone. Each failure already spent the policy's 5+10+15 s
// plus a doubled poll interval (chat-agent-api.md §9), so five are about
// 3 minutes of a session that answers nothing: past a short incident, and
// past the 2 minutes after which §9 wants the outer loop around session
// re-creation; fewer would drop a session over a burst of faults that a
// few ticks ride out. Counting beats probing GET {as}: a probe goes to the
// same failing service and proves nothing either way.
const sessionServerFailures = 5

// resumeServerFailures is the same count for resuming a saved agent
// session after a restart: each attempt is one turn of the outer loop (2,
// 4 ... min), and the saved session has been idle meanwhile, so after the
// first wait the worker starts a new session rather than wait on the old.
const resumeServerFailures = 2

// reloginAt is the share of the login's sessionTTl after which the worker
// logs in again before the login ends (ADR 0007): refresh may not extend the
// login (chat-agent-api.md §15.14), and the last tenth of 8 h (48 min)
// leaves room for the slow outer loop when that login fails.
const reloginAt = 0.9

// errSessionServer marks a 5xx (past the retry policy) on a call to the
// agent session itself, which the worker counts.
var errSessionServer = errors.New("poller: agent session call failed")

// errLoginFinal marks a login LivePerson refused for good (401 bad
// credentials, 451 blocked): the worker does not try again.
var errLoginFinal = errors.New("poller: login refused for good")

// sessionCall classifies the error of a call to the agent session itself:
// lpchat's ErrSessionLost becomes ErrSessionLost (the restart path), a 5xx
// past the retry policy is marked for counting (see serverFailed).
func sessionCall(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, lpchat.ErrSessionLost):
		return fmt.Errorf("%w: %s: %w", ErrSessionLost, op, err)
	case errors.Is(err, lpchat.ErrServer):
		return fmt.Errorf("%w: %s: %w", errSessionServer, op, err)
	}
	return err // lpchat's errors name the operation
}

// serverFailed counts the outcome of one tick or resume attempt and
// reports whether limit of them in a row failed on the agent session with
// 5xx: the session is then taken as gone. Any other outcome starts the
// count again, except a good tick while a sync read that failed with 5xx is
// owed: it read the ringing count in the sync's stead (tick.go), so the
// sync's attempts still count in a row.
func (w *Worker) serverFailed(err error, limit int) bool {
	if err == nil && w.syncFailing {
		return false
	}
	if !errors.Is(err, errSessionServer) {
		w.serverFails = 0
		return false
	}
	w.serverFails++
	return w.serverFails >= limit
}

// loginFinal reports a login refusal LivePerson says never to retry: 401
// (bad user, password or app secret; retrying can lock a password login)
// and 451 (blocked by LivePerson support). A 401 on a session call is no
// login refusal: it carries lpchat.ErrSessionLost and means log in again.
func loginFinal(err error) bool {
	return errors.Is(err, lpchat.ErrBlocked) ||
		(errors.Is(err, lpchat.ErrAuth) && !errors.Is(err, lpchat.ErrSessionLost))
}

// loginDue reports whether the login has lived reloginAt of its sessionTTl.
func (w *Worker) loginDue(now time.Time) bool {
	return w.loginTTL > 0 && now.Sub(w.loginAt) >= time.Duration(float64(w.loginTTL)*reloginAt)
}

// Failed returns why the agent's login was refused for good ("" while it is
// not): the worker then makes no request until a new configuration or a
// restart. The text names the refusal and holds no secret. Safe for
// concurrent use.
func (w *Worker) Failed() string {
	if r := w.failed.Load(); r != nil {
		return *r
	}
	return ""
}

// fail marks the agent failed for good: agent.session "error" with the
// reason, the failed-agents gauge, Failed.
func (w *Worker) fail(ctx context.Context, err error) {
	why := reason(err)
	w.failed.Store(&why)
	w.failedGauge(true)
	w.log.Error("login refused for good; not trying again until a new configuration or a restart", "err", err)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.emitAgent(events.AgentSession, func(*state.AgentState) any {
		return events.SessionData{State: events.SessionError, Reason: why}
	})
	if ferr := w.flushAgentLocked(ctx); ferr != nil {
		w.log.Warn("publishing agent events failed; will retry", "err", ferr)
	}
}

// failedGauge keeps this worker's share of the failed-agents gauge at on.
func (w *Worker) failedGauge(on bool) {
	if w.countedFailed == on {
		return
	}
	w.countedFailed = on
	delta := 1
	if !on {
		delta = -1
	}
	w.cfg.Metrics.AddAgentsFailed(delta)
}

// waitFailed holds a failed worker (and its lease, so that no other replica
// tries the refused credentials) until ctx ends or Stop is called.
func (w *Worker) waitFailed(ctx context.Context) {
	w.failedGauge(true)
	select {
	case <-ctx.Done():
	case <-w.stopped:
	}
}
