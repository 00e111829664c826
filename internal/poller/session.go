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

// Short names of the agent.session states.
const (
	sessionStarted   = events.SessionStarted
	sessionResumed   = events.SessionResumed
	sessionRestarted = events.SessionRestarted
)

// load reads the agent state and the cursors of its chats from KV, once per
// Worker: a restarted bridge continues where the last one stopped.
func (w *Worker) load(ctx context.Context) error {
	if w.loaded {
		return nil
	}
	a, ok, err := w.store.AgentState(ctx, w.cfg.Account, w.cfg.Agent.Token)
	if err != nil {
		return fmt.Errorf("poller: load agent state: %w", err)
	}
	for _, id := range a.Chats {
		cur, found, err := w.store.Cursor(ctx, w.cfg.Account, w.cfg.Agent.Token, id)
		if err != nil {
			return fmt.Errorf("poller: load cursor of chat %s: %w", id, err)
		}
		if found && (cur.Done || cur.Left) {
			// Left: the agent state was not saved after the chat left.
			// Followed again it would bring the next agent's conversation;
			// chatSessions lists it if the agent took it again.
			continue
		}
		c := newChat(id, cur, found)
		c.listed = true
		if !found {
			// Its first events may or may not have gone out: publish them
			// again under the same ids and let JetStream drop copies.
			c.acceptedBy = w.defaultAcceptedBy()
		}
		w.addChat(c)
	}
	if ok {
		w.mu.Lock()
		w.agent = a
		w.mu.Unlock()
	}
	w.loaded = true
	w.setChats()
	return nil
}

// establish logs in and resumes the saved agent session if it still works,
// else starts a new one; it publishes agent.session and the startup status.
func (w *Worker) establish(ctx context.Context) (_ *lpchat.AgentSession, err error) {
	if err := w.login(ctx); err != nil {
		if loginRefused(err) && !errors.Is(err, errLoginFinal) {
			w.sessionRefused(ctx, err)
		}
		return nil, err
	}
	w.mu.Lock()
	prevID := w.agent.AgentSessionID
	w.mu.Unlock()

	var as *lpchat.AgentSession
	st, why := sessionStarted, ""
	if prevID != "" {
		st, why = sessionRestarted, "previous agent session "+prevID+" was lost"
	}
	if prevID != "" && !w.lostSession {
		cand := w.client.ResumeAgentSession(prevID)
		_, err = cand.ChatSessions(ctx)
		err = sessionCall("resume agent session", err)
		switch {
		case w.serverFailed(err, resumeServerFailures), sessionGone(err):
			why = "previous agent session " + prevID + " could not be resumed"
			w.log.Info("saved agent session is gone; starting a new one", "agentSessionId", prevID, "err", err)
		case err == nil:
			as, st, why = cand, sessionResumed, ""
		default:
			return nil, fmt.Errorf("poller: resume agent session: %w", err)
		}
	}
	if as == nil {
		if as, err = w.client.StartAgentSession(ctx); err != nil {
			return nil, fmt.Errorf("poller: start agent session: %w", err)
		}
	}
	w.log.Info("agent session "+st, "agentSessionId", as.ID)
	// Usable (by the command consumer) before agent.session announces it.
	w.session.Store(as)
	defer func() {
		if err != nil {
			w.session.Store(nil)
		}
	}()

	w.mu.Lock()
	w.emitAgent(events.AgentSession, func(a *state.AgentState) any {
		a.AgentSessionID = as.ID
		return events.SessionData{State: st, AgentSessionID: as.ID, Reason: why}
	})
	w.mu.Unlock()
	w.lostSession = false
	w.resetSync()
	w.sessionsOwed = true // take the chats over
	w.serverFails = 0

	if err = w.startupStatus(ctx, as); err != nil {
		return nil, err
	}
	w.learnOwnID(ctx, as)
	if err := w.flushAgent(ctx); err != nil {
		w.log.Warn("publishing agent events failed; will retry", "err", err)
	}
	w.agentUp()
	return as, nil
}

// login logs the agent in (the client looks the domain up first). A
// refusal LivePerson says never to retry is marked errLoginFinal.
func (w *Worker) login(ctx context.Context) error {
	ls, err := w.client.Login(ctx, w.cfg.Agent.Credentials)
	if ctx.Err() == nil { // a login cut off by shutdown says nothing
		w.cfg.Metrics.LPLogin(loginResult(err))
	}
	if err != nil && loginFinal(err) {
		return fmt.Errorf("%w: %w", errLoginFinal, err)
	}
	if err != nil {
		return fmt.Errorf("poller: login: %w", err)
	}
	now := time.Now()
	w.lastRefresh, w.loginAt, w.loginTTL = now, now, ls.TTL
	w.nextLogin, w.loginFails = time.Time{}, 0
	return nil
}

// keepLogin refreshes the login every RefreshEvery and logs in again once
// it has lived reloginAt of its sessionTTl (ADR 0007), or when a refresh
// fails. The agent session goes on under the new bearer if the service
// allows it; if not, the next call's 401 takes the restart path. A failed
// early re-login leaves the old login in use and is tried again after
// ReloginBackoff; only a refusal for good fails the tick.
func (w *Worker) keepLogin(ctx context.Context) error {
	now := time.Now()
	mayLogin := !now.Before(w.nextLogin)
	switch {
	case w.loginDue(now) && mayLogin:
		w.log.Info("login nears its sessionTTl; logging in again", "ttl", w.loginTTL, "age", now.Sub(w.loginAt))
	case now.Sub(w.lastRefresh) < w.cfg.RefreshEvery:
		return nil
	default:
		err := w.client.Refresh(ctx)
		if err == nil || !mayLogin {
			w.lastRefresh = now // a failed refresh waits for the next login try
			return nil
		}
		w.log.Warn("login refresh failed; logging in again", "err", err)
	}
	err := w.login(ctx)
	if err == nil || errors.Is(err, errLoginFinal) || ctx.Err() != nil {
		return err
	}
	wait := w.cfg.reloginWait(w.loginFails)
	w.loginFails++
	w.nextLogin = now.Add(wait)
	w.log.Warn("logging in again failed; going on with the current login", "err", err, "wait", wait)
	return nil
}

// startupStatus reads the availability, goes Online if configured and
// publishes agent.status (cause startup) when it differs from the last one.
func (w *Worker) startupStatus(ctx context.Context, as *lpchat.AgentSession) error {
	st, err := as.Availability(ctx)
	if err != nil {
		return fmt.Errorf("poller: read availability: %w", err)
	}
	if w.cfg.Agent.GoOnline && st.Chat != lpchat.Online {
		set, err := as.SetAvailability(ctx, lpchat.Online)
		if err != nil {
			return fmt.Errorf("poller: go online: %w", err)
		}
		st.Chat = lpchat.Online
		if set.Chat != "" {
			st.Chat = set.Chat
		}
	}
	w.mu.Lock()
	w.noteStatus(st.Chat, causeStartup)
	w.mu.Unlock()
	return nil
}

// learnOwnID reads the agent's id (§5.5) to tell when a chat has moved to
// another agent. Best effort: without it the chat's own transfer lines and
// chatSessions still tell.
func (w *Worker) learnOwnID(ctx context.Context, as *lpchat.AgentSession) {
	if w.ownID != "" {
		return
	}
	info, err := as.Info(ctx)
	if err != nil {
		w.log.Debug("reading agent info failed", "err", err)
		return
	}
	w.ownID = info.ID
}
