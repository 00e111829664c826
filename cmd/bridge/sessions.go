package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// workerSessions gives the command consumer each agent's current session,
// tells it which agents this replica owns (so commands are routed to the
// lease holder), and lets commands that change what a poller watches go
// through that poller.
type workerSessions struct {
	account string
	workers map[string]*poller.Worker // by agent token
	history poller.ChatHistory        // the event stream, for chat.resync
}

// Session implements commands.SessionSource: nil with known=true while the
// worker has no session (the command fails with session_lost).
func (s workerSessions) Session(account, token string) (*lpchat.AgentSession, bool) {
	w, ok := s.worker(account, token)
	if !ok {
		return nil, false
	}
	return w.Session(), true
}

// Agents implements commands.OwnershipSource: the tokens of the agents
// this bridge runs for account.
func (s workerSessions) Agents(account string) []string {
	if account != s.account {
		return nil
	}
	return slices.Sorted(maps.Keys(s.workers))
}

// Owns implements commands.OwnershipSource: the agent's worker holds its
// lease (or runs without leases), so its commands come here.
func (s workerSessions) Owns(account, token string) bool {
	w, ok := s.worker(account, token)
	return ok && w.Owns()
}

// SetAvailability implements commands.AgentNotifier.
func (s workerSessions) SetAvailability(ctx context.Context, account, token string, a lpchat.Availability) (lpchat.AgentStatus, error) {
	w, ok := s.worker(account, token)
	if !ok {
		return lpchat.AgentStatus{}, fmt.Errorf("agent %q is not run by this bridge", token)
	}
	return w.SetAvailability(ctx, a)
}

// Accepted implements commands.AgentNotifier.
func (s workerSessions) Accepted(account, token, chatID string) {
	if w, ok := s.worker(account, token); ok {
		w.Track(chatID)
	}
}

// Resync implements commands.AgentNotifier: the owning worker rebuilds the
// chat; its refusals become the command's error codes.
func (s workerSessions) Resync(ctx context.Context, account, token, chatID string) (published, present int, err error) {
	w, ok := s.worker(account, token)
	if !ok {
		return 0, 0, &commands.Error{Code: commands.CodeUnknownAgent, Message: fmt.Sprintf("agent %q is not run by this bridge", token)}
	}
	res, err := w.Resync(ctx, chatID, s.history)
	switch {
	case errors.Is(err, poller.ErrChatPolled):
		return 0, 0, &commands.Error{Code: commands.CodeBadRequest, Message: err.Error()}
	case errors.Is(err, poller.ErrSessionLost):
		return 0, 0, &commands.Error{Code: commands.CodeSessionLost, Message: err.Error()}
	case lpchat.ChatGone(err):
		// The service may stop letting the agent read a chat it no longer
		// holds (400, 403, 404, 410): nothing to resync from; final.
		return 0, 0, &commands.Error{Code: commands.CodeChatNotFound, Message: "the service no longer lets this agent read the chat: " + err.Error()}
	case err != nil:
		return 0, 0, err
	}
	return res.Published, res.Present, nil
}

func (s workerSessions) worker(account, token string) (*poller.Worker, bool) {
	if account != s.account {
		return nil, false
	}
	w, ok := s.workers[token]
	return w, ok
}
