package lpsim

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Ways a lost agent session or login shows, for the bridge's restart path.
// The reference is silent on what a reaped agent session answers
// (chat-agent-api.md §15.4) and on whether refresh extends the login
// (§15.14), so the simulator can answer each way a real service might.

// ErrBadReapedStatus: Config.ReapedStatus is not one of 401, 403, 404, 410
// or 400.
var ErrBadReapedStatus = errors.New("reaped status must be 401, 403, 404, 410 or 400")

// validateLifetime checks the fields of this file. A real service could
// answer any of these statuses for an agent session it has dropped.
func (c Config) validateLifetime() error {
	switch c.ReapedStatus {
	case 0, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusGone, http.StatusBadRequest:
		return nil
	}
	return fmt.Errorf("ReapedStatus %d: %w", c.ReapedStatus, ErrBadReapedStatus)
}

// reapedStatus is the status of a call on an ended agent session.
func (s *Simulator) reapedStatus() int {
	if s.cfg.ReapedStatus == 0 {
		return http.StatusUnauthorized
	}
	return s.cfg.ReapedStatus
}

// extendLogin runs on a good refresh: the login lives another LoginTTL,
// unless FixedLoginTTL holds it to LoginTTL from the login itself.
func (s *Simulator) extendLogin(a *account, ls *loginSession, now time.Time) {
	if !s.cfg.FixedLoginTTL {
		ls.refreshed = now
		earlier(&a.loginDue, now.Add(s.cfg.LoginTTL)) // a no-op unless the clock went back
	}
}
