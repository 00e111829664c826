package poller

import (
	"context"
	"fmt"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/state"
)

// Short names of the agent.status causes.
const (
	causeStartup = events.StatusCauseStartup
	causeService = events.StatusCauseService
	causeCommand = events.StatusCauseCommand
	causeRestore = events.StatusCauseRestore
)

// emitAgent queues an agent-level event. build applies the change to the
// desired agent state and returns the event's data. The change number, and
// so the event id, is fixed here: a queued event that has to be published
// again keeps its id and JetStream drops the copy. The caller holds w.mu.
func (w *Worker) emitAgent(t events.Type, build func(a *state.AgentState) any) {
	w.agent.Change++
	data := build(&w.agent)
	w.pendingAgent = append(w.pendingAgent, events.Event{
		ID:      events.IDForAgentChange(w.cfg.Account, w.cfg.Agent.Token, w.agent.AgentSessionID, w.agent.Change, t),
		Type:    t,
		Account: w.cfg.Account,
		Agent:   w.cfg.Agent.Token,
		Seq:     w.agent.Change,
		Time:    time.Now().UTC(),
		Data:    data,
	})
	w.agentDirty = true
}

// flushAgentLocked publishes the queued agent events and then saves the agent
// state, so KV never runs ahead of JetStream. The caller holds w.mu.
func (w *Worker) flushAgentLocked(ctx context.Context) error {
	if len(w.pendingAgent) > 0 {
		if err := w.pub.Publish(ctx, w.pendingAgent...); err != nil {
			return fmt.Errorf("poller: publish agent events: %w", err)
		}
		w.pendingAgent = nil
	}
	if !w.agentDirty {
		return nil
	}
	if err := w.store.SaveAgentState(ctx, w.cfg.Account, w.cfg.Agent.Token, w.agent); err != nil {
		return fmt.Errorf("poller: save agent state: %w", err)
	}
	w.agentDirty = false
	return nil
}

// flushAgent is flushAgentLocked for callers that do not hold w.mu.
func (w *Worker) flushAgent(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushAgentLocked(ctx)
}

// noteStatus queues agent.status when the availability differs from the
// last one published. The caller holds w.mu.
func (w *Worker) noteStatus(status lpchat.Availability, cause string) {
	if string(status) == w.agent.Status || status == "" {
		return
	}
	w.emitAgent(events.AgentStatus, func(a *state.AgentState) any {
		prev := a.Status
		a.Status = string(status)
		return events.StatusData{Status: string(status), Previous: prev, Cause: cause}
	})
}

// noteRinging queues agent.ringing when the ringing count changed.
func (w *Worker) noteRinging(count int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if count == w.agent.Ringing {
		return
	}
	w.emitAgent(events.AgentRinging, func(a *state.AgentState) any {
		a.Ringing = count
		return events.RingingData{Count: count}
	})
}

// setChats records the chats being polled in the agent state, so that a
// restarted worker resumes them. The caller does not hold w.mu.
func (w *Worker) setChats() {
	chats := w.sortedChats()
	n := 0
	for _, c := range chats {
		if !c.retiring {
			n++
		}
	}
	w.gauges.setChats(w.cfg.Metrics, n)
	w.mu.Lock()
	defer w.mu.Unlock()
	if n == len(w.agent.Chats) && sameChats(chats, w.agent.Chats) {
		return
	}
	ids := make([]string, 0, n)
	for _, c := range chats {
		if !c.retiring {
			ids = append(ids, c.id)
		}
	}
	w.agent.Chats = ids
	w.agentDirty = true
}

// sameChats reports whether the chats not retiring, by id, are ids.
func sameChats(chats []*chat, ids []string) bool {
	i := 0
	for _, c := range chats {
		if c.retiring {
			continue
		}
		if i >= len(ids) || ids[i] != c.id {
			return false
		}
		i++
	}
	return i == len(ids)
}

// SetAvailability sets the agent's availability on the current session and
// publishes agent.status with cause "command" (so the poller's own reads do
// not report the change again as caused by the service). For the command
// consumer; safe for concurrent use. ErrSessionLost when no session runs.
func (w *Worker) SetAvailability(ctx context.Context, a lpchat.Availability) (lpchat.AgentStatus, error) {
	as := w.Session()
	if as == nil {
		return lpchat.AgentStatus{}, ErrSessionLost
	}
	w.mu.Lock()
	w.statusGen++ // reads of the poll loop overlapping this set are stale
	w.mu.Unlock()
	st, err := as.SetAvailability(ctx, a)
	if err != nil {
		return st, fmt.Errorf("poller: set availability: %w", err)
	}
	if st.Chat == "" {
		st.Chat = a
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.statusGen++
	w.wanted = st.Chat
	w.noteStatus(st.Chat, causeCommand)
	if err := w.flushAgentLocked(ctx); err != nil {
		// Queued; the poll loop publishes it at its next tick.
		w.log.Warn("publishing agent.status failed; will retry", "err", err)
	}
	return st, nil
}
