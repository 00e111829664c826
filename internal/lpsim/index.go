package lpsim

import (
	"slices"
	"time"
)

// The indexes keep a request's cost independent of the account's size: a
// poll reads its agent's own chats, and the sweep before every request
// looks at logins, agent sessions and rings only once a deadline may have
// passed. Everything here is guarded by Simulator.mu, like the model.

// reindex files c under what its state, ringing and holder say now: the
// account's queue (waiting, not ringing), the ringing list of the agent it
// rings at, the held list of the agent chatting in it; an ended chat is in
// none. Call it after changing any of those fields (addState does); it
// also marks the account for routing.
func (c *chat) reindex() {
	a := c.acct
	a.routeDirty = true
	open := c.state != stateEnded
	if q := open && c.state == stateWaiting && c.ringing == nil; q != c.inQueue {
		if q {
			a.queue = insertBySeq(a.queue, c)
		} else {
			a.queue = removeChat(a.queue, c)
		}
		c.inQueue = q
	}
	ring := c.ringing
	if !open {
		ring = nil
	}
	if ring != c.inRing {
		if c.inRing != nil {
			c.inRing.ringing = removeChat(c.inRing.ringing, c)
		}
		if ring != nil {
			ring.ringing = insertBySeq(ring.ringing, c)
		}
		c.inRing = ring
	}
	var held *agent
	if c.state == stateChatting {
		held = c.holder
	}
	if held != c.inHeld {
		if c.inHeld != nil {
			c.inHeld.held = removeChat(c.inHeld.held, c)
		}
		if held != nil {
			held.held = insertBySeq(held.held, c)
		}
		c.inHeld = held
	}
}

// insertBySeq adds c to a list kept in creation order; new chats go last.
func insertBySeq(list []*chat, c *chat) []*chat {
	i := len(list)
	for i > 0 && list[i-1].seq > c.seq {
		i--
	}
	return slices.Insert(list, i, c)
}

func removeChat(list []*chat, c *chat) []*chat {
	if i := slices.Index(list, c); i >= 0 {
		return slices.Delete(list, i, i+1)
	}
	return list
}

// deadlines holds, per account, times no earlier than the first login
// expiry, idle agent session and missed ring: before them the sweep has
// nothing to check. A zero time means nothing is pending. Refreshes and
// requests only move real deadlines later, so a bound stays valid until
// the sweep that passes it recomputes it.
type deadlines struct {
	loginDue   time.Time
	sessionDue time.Time
	ringDue    time.Time
	routeDirty bool // something routing depends on changed since the last route
}

// earlier lowers the bound *t to d.
func earlier(t *time.Time, d time.Time) {
	if t.IsZero() || d.Before(*t) {
		*t = d
	}
}

// due reports whether the bound t has passed at now.
func due(t, now time.Time) bool { return !t.IsZero() && !now.Before(t) }

// agentChanged marks the account for routing after an agent's availability
// or agent sessions changed.
func (a *account) agentChanged() { a.routeDirty = true }
