package commands

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Every command message goes through one pipeline of steps, watermill
// style: a middleware is a function from step to step, one per file, and
// each mode composes the same middleware around the same core (process)
// and ends in its own terminal step, replied (request-reply) or settled
// (durable: ack or nak). The compositions are in pipelines; the steps, from
// the outside in:
//
//	settled        durable: ack, or nak with the delay the outcome asks for   settle.go
//	routedToOwner  durable: hand back what another replica owns; count tries  standby.go
//	traced         the command's span                                         span.go
//	observed       metrics, span status, the log line                         observe.go
//	deadLettered   bad input, bugs, tries used up: to <prefix>.dlq.…          deadletter.go
//	published      the command.result event                                   publish.go
//	replied        request-reply: the reply, with its headers                 respond.go
//	retried        durable: transient failures come back with backoff         retry.go
//	recovered      a panic becomes an internal failure                        recover.go
//	process        validate, deduplicate, run                                 process.go

// Modes of handling, in logs and spans.
const (
	modeRequest = "request"
	modeDurable = "durable"
)

// delivery is one command message on its way through the pipeline.
type delivery struct {
	msg       *nats.Msg // subject, headers and body as they came
	mode      string    // modeRequest or modeDurable
	received  time.Time // when the pipeline took it (for the log's elapsed)
	cmd       Command   // decoded from msg (with a generated id if it had none)
	decodeErr error     // Decode's error, if any

	// Durable commands only.
	js    jetstream.Msg // the JetStream message to settle
	pos   position      // where it sits in the stream (zero if unknown)
	tries uint64        // the try this delivery is (deliveries that ran); 0 for request-reply
	// skipKey is the key of the message's skip count ("" when none was
	// skipped), dropped once the message is acked.
	skipKey string
}

// step handles a delivery and returns its outcome.
type step func(ctx context.Context, d *delivery) outcome

// middleware wraps a step with more handling.
type middleware func(next step) step

// chain wraps core in mws, the first one outermost.
func chain(core step, mws ...middleware) step {
	for i := len(mws) - 1; i >= 0; i-- {
		core = mws[i](core)
	}
	return core
}

// pipelines are the compositions of the steps, one per way a message is
// handled.
type pipelines struct {
	request step // a request-reply command taken on its agent's lane
	refused step // a request-reply command refused at the door (lane full)
	durable step // a durable command delivered by JetStream
}

// newPipelines composes c's steps. A refused command is only answered: it
// was not taken, so it has no result event and no dead letter.
func (c *Consumer) newPipelines() pipelines {
	return pipelines{
		request: chain(c.process,
			c.traced, c.observed, c.deadLettered, c.published, c.replied, c.recovered),
		refused: chain(c.refusal,
			c.traced, c.observed, c.replied),
		durable: chain(c.process,
			c.settled, c.routedToOwner, c.traced, c.observed, c.deadLettered, c.published, c.retried, c.recovered),
	}
}

// newDelivery decodes m for the pipeline.
func (c *Consumer) newDelivery(m *nats.Msg, mode string) *delivery {
	d := &delivery{msg: m, mode: mode, received: time.Now()}
	d.cmd, d.decodeErr = c.decode(m)
	return d
}

// refusal is the core of a refused command: rate_limited, not run.
func (c *Consumer) refusal(_ context.Context, d *delivery) outcome {
	return failure(d.cmd, failf(CodeRateLimited, "more than %d commands are waiting for agent %q",
		c.cfg.MaxQueuedPerAgent, d.cmd.Agent), 0)
}
