package commands

import "context"

// retried spends the retry budget of a durable command: a transient
// failure comes back after Backoff[try-1] (the nak delay, so the schedule
// survives a restart) while tries remain, and is dead-lettered on the last
// one. A delivery past the budget (the bridge died during the last try, or
// an acked command came again, its skip count gone) is not run again: it
// replays the command's stored result if it has one, else is dead-lettered.
func (c *Consumer) retried(next step) step {
	return func(ctx context.Context, d *delivery) outcome {
		budget := uint64(c.cfg.MaxDeliver)
		var out outcome
		if d.tries > budget {
			out = c.givenUp(ctx, d)
		} else {
			out = next(ctx, d)
		}
		if out.err == nil || !out.err.Code.Transient() {
			return out
		}
		if d.tries < budget {
			out.redeliver, out.delay = true, c.cfg.backoff(d.tries)
			return out
		}
		out.deadLetter = true
		return out
	}
}

// givenUp is the outcome of a durable delivery past its retry budget: the
// stored result of a command that ran to the end (a whole NATS cluster
// restarted can deliver an acked command again), else a timeout.
func (c *Consumer) givenUp(ctx context.Context, d *delivery) outcome {
	if d.decodeErr == nil && d.cmd.IDSource != idSourceGenerated {
		rec, ok, err := c.results.final(ctx, resultKey(d.cmd.Account, d.cmd.Agent, d.cmd.ID))
		if err != nil {
			c.logger.Warn("stored result of a command past its tries unknown", "agent", d.cmd.Agent, "id", d.cmd.ID, "err", err)
		}
		if ok && rec.Command == d.cmd.Name {
			return replay(d.cmd, rec)
		}
	}
	return failure(d.cmd, failf(CodeTimeout, "given up after %d tries", c.cfg.MaxDeliver), int(d.tries))
}
