package poller

import (
	"context"
	"errors"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/state"
)

// loginRefused reports a login the service refused for good: bad
// credentials or account (401), blocked by LivePerson support (451), or a
// request it rejects (another 4xx). LivePerson's retry policy (§9) says not
// to retry these; only a change of the configuration or on LivePerson's
// side helps.
func loginRefused(err error) bool {
	return errors.Is(err, lpchat.ErrAuth) || errors.Is(err, lpchat.ErrBlocked) || errors.Is(err, lpchat.ErrBadRequest)
}

// sessionRefused publishes agent.session "error" with the refusal as the
// reason: no agent session can be created. For a refusal other than the
// final ones (loginFinal: 401, 451; see fail) the worker still tries again
// on its slow outer loop (ReloginBackoff), one event per refused try.
func (w *Worker) sessionRefused(ctx context.Context, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.emitAgent(events.AgentSession, func(*state.AgentState) any {
		return events.SessionData{State: events.SessionError, Reason: reason(err)}
	})
	if ferr := w.flushAgentLocked(ctx); ferr != nil {
		w.log.Warn("publishing agent events failed; will retry", "err", ferr)
	}
}
