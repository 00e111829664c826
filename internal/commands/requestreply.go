package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// flushTimeout bounds the round trip that makes sure the server has the
// subscription before Run reports ready.
const flushTimeout = 10 * time.Second

// drainPoll is how often shutdown checks whether the subscription drained.
const drainPoll = 10 * time.Millisecond

// subscribeRequests subscribes to <prefix>.cmd.<account>.> in the queue
// group, so replicas share the load; each message is queued on its agent's
// lane and answered on msg.Reply. It serves a consumer without an
// OwnershipSource (see startRoutes for one with).
func (c *Consumer) subscribeRequests(ctx context.Context) (*nats.Subscription, error) {
	subject := c.subjects.wildcard(kindRequest, "")
	sub, err := c.nc.QueueSubscribe(subject, c.cfg.QueueGroup, func(m *nats.Msg) { c.take(ctx, m) })
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", subject, err)
	}
	fctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	if err := c.nc.FlushWithContext(fctx); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe %s: %w", subject, err)
	}
	return sub, nil
}

// take queues a request on its agent's lane, or refuses it when the lane
// is full. The command runs detached from ctx: shutdown stops taking
// commands, not the ones taken.
func (c *Consumer) take(ctx context.Context, m *nats.Msg) {
	ctx = context.WithoutCancel(ctx)
	agent, _, _ := c.subjects.split(kindRequest, m.Subject)
	if !c.lanes.dispatch(agent, func() { c.pipes.request(ctx, c.newDelivery(m, modeRequest)) }) {
		// On the subscription's goroutine: answered at once, not run.
		c.pipes.refused(ctx, c.newDelivery(m, modeRequest))
	}
}

// drain stops the subscriptions from taking new commands, lets them hand
// on what they already received, and waits (up to the command timeout) for
// that.
func (c *Consumer) drain(subs ...*nats.Subscription) {
	for _, sub := range subs {
		if err := sub.Drain(); err != nil {
			_ = sub.Unsubscribe()
		}
	}
	deadline := time.Now().Add(c.cfg.Timeout)
	for _, sub := range subs {
		for sub.IsValid() && time.Now().Before(deadline) {
			time.Sleep(drainPoll)
		}
	}
}
