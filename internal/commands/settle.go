package commands

import (
	"context"
	"time"
)

// settleTimeout bounds the wait for the server to confirm an ack: the next
// command is taken only once this one is off the stream.
const settleTimeout = 10 * time.Second

// settled is the terminal step of durable commands: it acks the message
// once the pipeline is done with it, or naks it with the delay the outcome
// asks for, so that JetStream delivers it again then.
func (c *Consumer) settled(next step) step {
	return func(ctx context.Context, d *delivery) outcome {
		out := next(ctx, d)
		var err error
		if out.redeliver {
			err = d.js.NakWithDelay(out.delay)
		} else {
			actx, cancel := context.WithTimeout(ctx, settleTimeout)
			err = d.js.DoubleAck(actx)
			cancel()
			if err == nil {
				c.forgetSkips(ctx, d.skipKey)
			}
		}
		if err != nil {
			// JetStream delivers it again after the ack wait; its result,
			// if final, is stored and replayed then.
			c.logger.Warn("durable command not settled", "subject", d.msg.Subject, "redeliver", out.redeliver, "err", err)
		}
		return out
	}
}
