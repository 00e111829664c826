package commands

import "context"

// retried spends the retry budget of a durable command: a transient
// failure comes back after Backoff[try-1] (the nak delay, so the schedule
// survives a restart) while tries remain, and is dead-lettered on the last
// one. A delivery past the budget (the bridge died during the last try) is
// not run again but dead-lettered.
func (c *Consumer) retried(next step) step {
	return func(ctx context.Context, d *delivery) outcome {
		budget := uint64(c.cfg.MaxDeliver)
		var out outcome
		if d.tries > budget {
			out = failure(d.cmd, failf(CodeTimeout, "given up after %d tries", c.cfg.MaxDeliver), int(d.tries))
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
