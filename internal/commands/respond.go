package commands

import (
	"context"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/tracing"
)

// replied is the terminal step of request-reply commands: it answers the
// sender, if it asked for an answer (msg.Reply), as soon as the outcome is
// known.
func (c *Consumer) replied(next step) step {
	return func(ctx context.Context, d *delivery) outcome {
		out := next(ctx, d)
		c.respond(ctx, d.msg, out)
		return out
	}
}

// respond sends the reply, if the sender asked for one. It carries the
// traceparent of the command's span (ctx), so the sender's trace joins it,
// and the command id the sender gave.
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
