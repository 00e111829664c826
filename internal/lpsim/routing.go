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
// agent sessions, the accept window; then routes waiting chats. s.mu is held.
func (s *Simulator) sweep(now time.Time) {
	for _, a := range s.accounts {
		for _, ls := range a.logins {
			if now.Sub(ls.refreshed) >= s.cfg.LoginTTL {
				s.log.Debug("lpsim: login expired", "account", a.id, "agent", ls.agent.login)
				s.endLogin(a, ls, now, false)
			}
		}
		for _, ag := range a.agents {
			for _, as := range slices.Clone(ag.live) {
				if now.Sub(as.lastActivity) >= s.cfg.SessionIdleTimeout {
					s.endSession(a, as, now, "idle")
				}
			}
		}
		for _, c := range a.open {
			if c.ringing != nil && now.Sub(c.ringSince) >= s.cfg.AcceptWindow {
				s.missedRing(a, c.ringing)
			}
		}
		s.route(a, now)
	}
}

// missedRing sets an agent Away after it let a chat ring out, and takes its
// ringing chats back for rerouting.
func (s *Simulator) missedRing(a *account, ag *agent) {
	s.log.Debug("lpsim: accept window passed, agent set Away", "account", a.id, "agent", ag.login)
	ag.availability = availAway
	s.unring(a, ag)
}

// unring takes every chat ringing at ag back into the queue.
func (s *Simulator) unring(a *account, ag *agent) {
	for _, c := range a.open {
		if c.ringing == ag {
			c.ringing = nil
			if c.targetAgent == ag {
				c.targetAgent = nil
			}
			c.exclude = nil // the transferring agent may get it back now
			c.notify()
		}
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
	s.log.Debug("lpsim: agent session ended", "account", a.id, "agent", ag.login, "session", as.id, "why", why)
	if len(ag.live) > 0 {
		return
	}
	s.unring(a, ag)
	for _, c := range a.open {
		if c.state == stateChatting && c.holder == ag {
			s.requeue(c, now)
		}
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
// loaded agent that may take it (ties: the agent added first). s.mu is held.
func (s *Simulator) route(a *account, now time.Time) {
	var loads map[*agent]int
	for _, c := range a.open {
		if c.state != stateWaiting || c.ringing != nil {
			continue
		}
		if loads == nil {
			loads = make(map[*agent]int, len(a.agents))
			for _, ag := range a.agents {
				loads[ag] = a.load(ag)
			}
		}
		var best *agent
		for _, ag := range a.agents {
			if canTake(c, ag, loads[ag]) && (best == nil || loads[ag] < loads[best]) {
				best = ag
			}
		}
		if best == nil {
			continue
		}
		c.ringing, c.ringSince = best, now
		loads[best]++
		c.notify()
		s.log.Debug("lpsim: chat rings", "account", a.id, "chat", c.id, "agent", best.login)
	}
}

// ringingAt lists the chats ringing at ag, oldest first.
func ringingAt(a *account, ag *agent) []*chat {
	var out []*chat
	for _, c := range a.open {
		if c.ringing == ag {
			out = append(out, c)
		}
	}
	return out
}
