package commands

import (
	"context"
	"fmt"
	"runtime/debug"
)

// recovered turns a panic in the steps it wraps (a bug) into an internal
// failure, which the steps outside answer, publish and dead-letter like any
// other: one bad command must not take the consumer down (DESIGN §4.6). It
// sits around the core, the only steps that read the command's input; the
// steps outside it publish what the bridge built.
func (c *Consumer) recovered(next step) step {
	return func(ctx context.Context, d *delivery) (out outcome) {
		defer func() {
			if p := recover(); p != nil {
				c.logger.Error("command handling panicked", "subject", d.msg.Subject, "mode", d.mode,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				out = failure(d.cmd, failf(CodeInternal, "command failed unexpectedly"), 1)
			}
		}()
		return next(ctx, d)
	}
}
