package commands

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/jsretry"
	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// published publishes the outcome as a command.result event, for
// publishers that did not wait for a reply. A delivery handed back for
// redelivery has no outcome yet: the try that settles it publishes.
func (c *Consumer) published(next step) step {
	return func(ctx context.Context, d *delivery) outcome {
		out := next(ctx, d)
		if !out.redeliver {
			c.publishResult(ctx, out)
		}
		return out
	}
}

// resultPublishTimeout bounds the publication of a command.result event,
// retries included.
const resultPublishTimeout = 10 * time.Second

// publishResult publishes the outcome as a command.result event. A final
// outcome's event id is derived from the command id alone, so replaying a
// stored result publishes a duplicate that JetStream drops; a transient
// failure's id also names the attempt, and a rejected command's (refused
// before its id was claimed) its command and code, so a later success under
// the same id is not dropped.
func (c *Consumer) publishResult(ctx context.Context, out outcome) {
	agent := out.cmd.Agent
	if agent == "" {
		agent = unknownToken
	}
	name := out.cmd.Name
	if name == "" {
		name = unknownToken
	}
	idPart := out.cmd.ID
	if !out.final {
		idPart += "/attempt-" + strconv.Itoa(out.attempt)
	}
	if out.rejected && out.err != nil {
		// Nothing was stored under the id: the result of a corrected
		// command reusing it must not be dropped as this one's duplicate.
		idPart += "/rejected/" + name + "/" + string(out.err.Code)
	}
	ev := events.Event{
		ID:      events.IDForCommand(out.cmd.Account, agent, idPart),
		Type:    events.CommandResult,
		Account: out.cmd.Account,
		Agent:   agent,
		Seq:     int64(min(max(out.attempt, 0), math.MaxInt32)),
		Time:    time.Now(),
		Data: events.CommandResultData{
			CommandID: out.cmd.ID, Command: name, OK: out.reply.OK,
			Result: out.reply.Result, Error: out.reply.Error,
		},
		TraceParent: traceParent(ctx, out.cmd),
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultPublishTimeout)
	defer cancel()
	// While the stream elects a leader it answers "no responders" at once:
	// retried, or a durable command's only outcome would be lost. A retry
	// after a timeout is safe: the event's id is its Nats-Msg-Id.
	err := jsretry.Do(pctx, c.retries(), telemetry.JetStreamPublish, "publish command.result", func(actx context.Context) error {
		return c.pub.Publish(actx, ev)
	})
	if err != nil {
		c.logger.Warn("command.result not published", "command", name, "agent", agent, "id", out.cmd.ID, "err", err)
	}
}
