package commands

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/tracing"
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
	subject := c.requestSubject("")
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

// laneKey is the agent token of a command subject ("" when it has none).
func (c *Consumer) laneKey(subject string) string {
	rest := strings.TrimPrefix(subject, c.cfg.Prefix+"."+kindRequest+"."+c.cfg.Account+".")
	agent, _, _ := strings.Cut(rest, ".")
	return agent
}

// handleRequest runs one request-reply command and answers it. The run is
// detached from ctx: shutdown stops taking commands, not the ones running.
func (c *Consumer) handleRequest(ctx context.Context, m *nats.Msg) {
	start := time.Now()
	cmd, err := c.decode(m)
	ctx, span := c.startSpan(ctx, m, cmd, modeRequest, 0)
	defer span.End()
	defer c.recoverRequest(ctx, m)
	out := c.process(context.WithoutCancel(ctx), cmd, err)
	c.respond(ctx, m, out)
	c.publishResult(ctx, out)
	if out.deadLetter {
		if err := c.dead.send(ctx, m, out.cmd, out.err, 0); err != nil {
			c.logger.Error("dead letter not published", "subject", m.Subject, "err", err)
		}
	}
	c.observe(ctx, out)
	c.logOutcome(ctx, out, modeRequest, time.Since(start))
}

// recoverRequest answers a command whose handling panicked (a bug) with
// internal, and dead-letters it: one bad command must not take the
// consumer down (DESIGN §4.6).
func (c *Consumer) recoverRequest(ctx context.Context, m *nats.Msg) {
	p := recover()
	if p == nil {
		return
	}
	c.logger.Error("command handling panicked", "subject", m.Subject, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	cmd, _ := c.decode(m)
	out := failure(cmd, failf(CodeInternal, "command failed unexpectedly"), 1)
	c.respond(ctx, m, out)
	c.publishResult(ctx, out)
	c.observe(ctx, out)
	if err := c.dead.send(ctx, m, out.cmd, out.err, 0); err != nil {
		c.logger.Error("dead letter not published", "subject", m.Subject, "err", err)
	}
}

// refuse answers a command whose agent has too many commands queued. It
// runs on the subscription's goroutine, so it only replies: no result
// event, no dead letter (the command was not taken, the client may retry).
func (c *Consumer) refuse(ctx context.Context, m *nats.Msg) {
	cmd, _ := Decode(m, c.decodeOpts)
	if cmd.ID == "" {
		cmd.IDSource = idSourceGenerated
	}
	ctx, span := c.startSpan(ctx, m, cmd, modeRequest, 0)
	defer span.End()
	out := failure(cmd, failf(CodeRateLimited, "more than %d commands are waiting for agent %q", c.cfg.MaxQueuedPerAgent, cmd.Agent), 0)
	c.respond(ctx, m, out)
	c.observe(ctx, out)
	c.logOutcome(ctx, out, modeRequest, 0)
}

// respond sends the reply, if the sender asked for one. It carries the
// traceparent of the command's span (ctx), so the sender's trace joins it.
func (c *Consumer) respond(ctx context.Context, m *nats.Msg, out outcome) {
	if m.Reply == "" {
		return
	}
	r := nats.NewMsg(m.Reply)
	r.Header.Set("Content-Type", "application/json")
	tracing.Inject(ctx, r.Header.Set)
	if out.cmd.ID != "" && out.cmd.IDSource != idSourceGenerated {
		r.Header.Set(HeaderCommandID, headerSafe(out.cmd.ID))
	}
	r.Data = mustJSON(out.reply)
	if err := c.nc.PublishMsg(r); err != nil {
		c.logger.Warn("reply not sent", "command", out.cmd.Name, "agent", out.cmd.Agent, "err", err)
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
