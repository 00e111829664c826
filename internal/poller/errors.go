package poller

import (
	"errors"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// ErrInvalidConfig is returned by New for a bad Config or a missing
// dependency; the message lists every problem.
var ErrInvalidConfig = errors.New("poller: invalid config")

// ErrSessionLost means the agent session (or the login behind it) is gone:
// the worker publishes agent.session "lost" and starts over with a new login
// and agent session. SetAvailability returns it too when no session runs.
var ErrSessionLost = errors.New("poller: agent session lost")

// ErrRunning is returned by Run when the Worker is already running.
var ErrRunning = errors.New("poller: Run is already running")

// sessionGone reports whether err means the login or agent session is gone:
// lpchat's classification (lpchat.ErrSessionLost), or ErrSessionLost of the
// worker's own (see lost.go).
func sessionGone(err error) bool {
	return errors.Is(err, lpchat.ErrSessionLost) || errors.Is(err, ErrSessionLost)
}

// errChatDocument means the service reported an error inside a chat
// document (the "error" member of §12) instead of the chat.
var errChatDocument = errors.New("poller: service reported an error for the chat")

// errStopped ends polling after Stop was called.
var errStopped = errors.New("poller: stopped")
