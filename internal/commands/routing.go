package commands

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// OwnershipSource, when the SessionSource implements it too, routes
// request-reply commands to the replica that owns each agent (holds its
// lease): the consumer subscribes to an agent's commands only while it owns
// the agent, so a command never lands on a replica standing by. Without it
// every replica takes commands for every agent (one replica per agent set).
type OwnershipSource interface {
	// Agents lists the tokens of the agents this bridge runs for account.
	Agents(account string) []string
	// Owns reports whether this replica owns the agent right now.
	Owns(account, agentToken string) bool
}

// catchAllSuffix names the queue group of the catch-all subscription: a
// group of its own, so it never competes with an owner for a command.
const catchAllSuffix = "-unrouted"

// routes are the request-reply subscriptions of a consumer with an
// OwnershipSource: one per owned agent on <prefix>.cmd.<account>.<agent>.>
// in the queue group, and a catch-all on <prefix>.cmd.<account>.> in a
// group of its own that answers only what no owner can (subjects without
// a configured agent and a command).
type routes struct {
	c        *Consumer
	own      OwnershipSource
	catchAll *nats.Subscription
	known    atomic.Pointer[map[string]bool] // configured agents; read by the catch-all

	// Used by the goroutine running follow only (and stop after it).
	subs     map[string]*nats.Subscription // by agent token
	draining []*nats.Subscription          // given up, finishing what they received
}

// startRoutes subscribes the catch-all and the agents owned right now, and
// makes sure the server has every subscription before it returns.
func (c *Consumer) startRoutes(ctx context.Context, own OwnershipSource) (*routes, error) {
	r := &routes{c: c, own: own, subs: map[string]*nats.Subscription{}}
	r.known.Store(&map[string]bool{})
	subject := c.subjects.wildcard(kindRequest, "")
	sub, err := c.nc.QueueSubscribe(subject, c.cfg.QueueGroup+catchAllSuffix, func(m *nats.Msg) {
		if r.routed(m.Subject) {
			return // the owner's subscription takes it
		}
		c.take(ctx, m)
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", subject, err)
	}
	r.catchAll = sub
	if err := r.sync(ctx); err != nil {
		r.unsubscribe()
		return nil, err
	}
	return r, nil
}

// routed reports whether an agent subscription (this replica's or
// another's) matches subject: a configured agent followed by a command.
func (r *routes) routed(subject string) bool {
	agent, command, ok := r.c.subjects.split(kindRequest, subject)
	return ok && command != "" && (*r.known.Load())[agent]
}

// follow re-checks ownership every OwnershipCheck until ctx ends.
func (r *routes) follow(ctx context.Context) {
	t := time.NewTicker(r.c.cfg.OwnershipCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := r.sync(ctx); err != nil && ctx.Err() == nil {
			r.c.logger.Warn("following agent ownership failed; will retry", "err", err)
		}
	}
}

// sync subscribes to the agents this replica owns now and drains the
// subscriptions of those it no longer owns: what they already received
// still runs and is answered.
func (r *routes) sync(ctx context.Context) error {
	agents := r.own.Agents(r.c.cfg.Account)
	known := make(map[string]bool, len(agents))
	for _, a := range agents {
		if validToken(a) {
			known[a] = true
		}
	}
	r.known.Store(&known)
	added := false
	for agent := range known {
		sub, has := r.subs[agent]
		switch owns := r.owns(agent); {
		case owns && !has:
			subject := r.c.subjects.wildcard(kindRequest, agent)
			sub, err := r.c.nc.QueueSubscribe(subject, r.c.cfg.QueueGroup, func(m *nats.Msg) { r.c.take(ctx, m) })
			if err != nil {
				return fmt.Errorf("subscribe %s: %w", subject, err)
			}
			r.subs[agent] = sub
			added = true
			r.c.logger.Info("taking the agent's commands: this replica owns it", "agent", agent, "requests", subject)
		case !owns && has:
			r.giveUp(agent, sub)
			r.c.logger.Info("no longer taking the agent's commands: another replica owns it", "agent", agent)
		}
	}
	for agent, sub := range r.subs {
		if !known[agent] {
			r.giveUp(agent, sub)
		}
	}
	r.draining = pruneInvalid(r.draining)
	if !added {
		return nil
	}
	fctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	if err := r.c.nc.FlushWithContext(fctx); err != nil {
		return fmt.Errorf("flush subscriptions: %w", err)
	}
	return nil
}

// owns asks the OwnershipSource; a panic (a wiring bug) counts as not owned.
func (r *routes) owns(agent string) (owned bool) {
	defer func() {
		if p := recover(); p != nil {
			r.c.logger.Error("ownership lookup panicked", "agent", agent, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			owned = false
		}
	}()
	return r.own.Owns(r.c.cfg.Account, agent)
}

// giveUp drains an agent's subscription without waiting for it.
func (r *routes) giveUp(agent string, sub *nats.Subscription) {
	delete(r.subs, agent)
	if err := sub.Drain(); err != nil {
		_ = sub.Unsubscribe()
		return
	}
	r.draining = append(r.draining, sub)
}

// all is every subscription still open.
func (r *routes) all() []*nats.Subscription {
	subs := append([]*nats.Subscription{r.catchAll}, r.draining...)
	for _, s := range r.subs {
		subs = append(subs, s)
	}
	return subs
}

// unsubscribe drops every subscription at once (start failed).
func (r *routes) unsubscribe() {
	for _, s := range r.all() {
		_ = s.Unsubscribe()
	}
}

// pruneInvalid keeps the subscriptions still draining.
func pruneInvalid(subs []*nats.Subscription) []*nats.Subscription {
	kept := subs[:0]
	for _, s := range subs {
		if s.IsValid() {
			kept = append(kept, s)
		}
	}
	clear(subs[len(kept):])
	return kept
}
