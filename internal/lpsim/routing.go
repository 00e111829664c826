package lpsim

import (
	"slices"
	"time"
)

// System message ids and texts the simulator emits (§6.4).
const (
	sysAccepted    = 3
	sysRouting     = 4
	sysAgentEnded  = 5
	sysVisitorLeft = 6 // the visitor ended the chat (our choice; §6.4 calls 6 "disconnected")
	sysToAgent     = 13
	sysToSkill     = 15
	sysRequeued    = 23

	textRouting     = "Thank you for choosing to chat with us. An agent will be with you shortly."
	textVisitorLeft = "The visitor has left the chat"
	textRequeued    = "The chat was requeued"
)

// sweep applies every deadline that has passed at now: login TTL, idle
// agent sessions, the accept window; then routes waiting chats. Each kind
// of deadline is looked at only once its bound (index.go) has passed.
// s.mu is held.
func (s *Simulator) sweep(now time.Time) {
	for _, a := range s.accounts {
		if due(a.loginDue, now) {
			s.expireLogins(a, now)
		}
		if due(a.sessionDue, now) {
			s.reapSessions(a, now)
		}
		if due(a.ringDue, now) {
			s.ringOut(a, now)
		}
		s.route(a, now)
	}
}

// expireLogins ends the logins not refreshed for LoginTTL.
func (s *Simulator) expireLogins(a *account, now time.Time) {
	a.loginDue = time.Time{}
	for _, ls := range a.logins {
		if now.Sub(ls.refreshed) >= s.cfg.LoginTTL {
			s.log.Debug("lpsim: login expired", "account", a.id, "agent", ls.agent.login)
			s.endLogin(a, ls, now, false)
			continue
		}
		earlier(&a.loginDue, ls.refreshed.Add(s.cfg.LoginTTL))
	}
}

// reapSessions ends the agent sessions idle for SessionIdleTimeout.
func (s *Simulator) reapSessions(a *account, now time.Time) {
	a.sessionDue = time.Time{}
	for _, ag := range a.agents {
		for _, as := range slices.Clone(ag.live) {
			if now.Sub(as.lastActivity) >= s.cfg.SessionIdleTimeout {
				s.endSession(a, as, now, "idle")
			}
		}
	}
	for _, ag := range a.agents {
		for _, as := range ag.live {
			earlier(&a.sessionDue, as.lastActivity.Add(s.cfg.SessionIdleTimeout))
		}
	}
}

// ringOut sets Away every agent that let a chat ring for AcceptWindow.
func (s *Simulator) ringOut(a *account, now time.Time) {
	a.ringDue = time.Time{}
	for _, c := range a.open {
		if c.ringing != nil && now.Sub(c.ringSince) >= s.cfg.AcceptWindow {
			s.missedRing(a, c.ringing)
		}
	}
	for _, c := range a.open {
		if c.ringing != nil {
			earlier(&a.ringDue, c.ringSince.Add(s.cfg.AcceptWindow))
		}
	}
}

// missedRing sets an agent Away after it let a chat ring out, and takes its
// ringing chats back for rerouting.
func (s *Simulator) missedRing(a *account, ag *agent) {
	s.log.Debug("lpsim: accept window passed, agent set Away", "account", a.id, "agent", ag.login)
	ag.availability = availAway
	a.agentChanged()
	s.unring(a, ag)
}

// unring takes every chat ringing at ag back into the queue.
func (s *Simulator) unring(a *account, ag *agent) {
	for _, c := range slices.Clone(ag.ringing) {
		c.ringing = nil
		if c.targetAgent == ag {
			c.targetAgent = nil
		}
		c.exclude = nil // the transferring agent may get it back now
		c.reindex()
		c.notify()
	}
}

// endSession ends an agent session (logout, idle reaping, expiry, DELETE).
// When it was the agent's last one, the agent's chats go back to the queue.
func (s *Simulator) endSession(a *account, as *agentSession, now time.Time, why string) {
	if as.ended {
		return
	}
	as.ended = true
	ag := as.agent
	ag.live = slices.DeleteFunc(ag.live, func(o *agentSession) bool { return o == as })
	a.agentChanged()
	s.log.Debug("lpsim: agent session ended", "account", a.id, "agent", ag.login, "session", as.id, "why", why)
	if len(ag.live) > 0 {
		return
	}
	s.unring(a, ag)
	for _, c := range slices.Clone(ag.held) {
		s.requeue(c, now)
	}
}

// requeue puts a chat whose agent vanished back to waiting (§4.5).
func (s *Simulator) requeue(c *chat, now time.Time) {
	c.holder, c.exclude = nil, nil
	c.transferred = false
	c.agentTyping = typingOff
	c.addSystemLine(now, sysRequeued, textRequeued)
	c.addState(now, stateWaiting)
}

// canTake reports whether ag may be offered c given its current load.
func canTake(c *chat, ag *agent, load int) bool {
	if len(ag.live) == 0 || c.exclude == ag {
		return false
	}
	switch ag.availability {
	case availOnline:
	case availOccupied:
		if !c.transferred { // Occupied agents receive only transferred chats
			return false
		}
	default:
		return false
	}
	if c.targetAgent != nil {
		if c.targetAgent != ag {
			return false
		}
	} else if c.skillID != "" && !ag.hasSkill(c.skillID) {
		return false
	}
	return ag.maxChats < 0 || load < ag.maxChats
}

// route rings every waiting, unassigned chat, oldest first, at the least
// loaded agent that may take it (ties: the agent added first). It does
// nothing unless something routing depends on changed since it last ran:
// its answer would be the same. s.mu is held.
func (s *Simulator) route(a *account, now time.Time) {
	if !a.routeDirty {
		return
	}
	for _, c := range slices.Clone(a.queue) {
		var best *agent
		bestLoad := 0
		for _, ag := range a.agents {
			if len(ag.live) == 0 {
				continue // Offline: canTake says no, without counting its load
			}
			load := a.load(ag)
			if canTake(c, ag, load) && (best == nil || load < bestLoad) {
				best, bestLoad = ag, load
			}
		}
		if best == nil {
			continue
		}
		c.ringing, c.ringSince = best, now
		c.reindex()
		earlier(&a.ringDue, now.Add(s.cfg.AcceptWindow))
		c.notify()
		s.log.Debug("lpsim: chat rings", "account", a.id, "chat", c.id, "agent", best.login)
	}
	a.routeDirty = false // the rings just made change no other chat's answer
}

// ringingAt lists the chats ringing at ag, oldest first: the index itself,
// to read before anything changes.
func ringingAt(ag *agent) []*chat { return ag.ringing }
