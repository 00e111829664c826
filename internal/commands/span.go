package commands

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/lpbridge/lpbridge/internal/tracing"
)

// traced runs the rest of the pipeline in the command's span, so the
// reply, the command.result event and the dead letter carry its trace.
func (c *Consumer) traced(next step) step {
	return func(ctx context.Context, d *delivery) outcome {
		ctx, span := c.startSpan(ctx, d)
		defer span.End()
		return next(ctx, d)
	}
}

// Tracing names: the span of one command is "lpbridge.command <name>".
const (
	spanCommandPrefix = "lpbridge.command "
	attrCommand       = attribute.Key("lpbridge.command")
	attrAgent         = attribute.Key("lpbridge.agent")
	attrCommandID     = attribute.Key("lpbridge.command.id")
	attrMode          = attribute.Key("lpbridge.command.mode")
	attrDelivery      = attribute.Key("lpbridge.command.delivery")
	attrOutcome       = attribute.Key("lpbridge.command.outcome")
	attrCode          = attribute.Key("lpbridge.command.code")
	attrReplayed      = attribute.Key("lpbridge.command.replayed")
)

// startSpan starts the span of one command. It continues the trace of the
// command's traceparent (CloudEvent extension or header, with the header
// tracestate) when there is one. A command name outside the known set (a
// made-up subject) is "unknown" in the span name, which must stay bounded.
func (c *Consumer) startSpan(ctx context.Context, d *delivery) (context.Context, trace.Span) {
	cmd := d.cmd
	ctx = tracing.ContextWithParent(ctx, cmd.TraceParent, headerGet(d.msg.Header, tracing.HeaderTraceState))
	name := cmd.Name
	if !Known(name) {
		name = unknownToken
	}
	kind := trace.SpanKindServer // the sender waits for the reply
	if d.mode == modeDurable {
		kind = trace.SpanKindConsumer
	}
	attrs := []attribute.KeyValue{
		attrCommand.String(cmd.Name), attrAgent.String(cmd.Agent), attrCommandID.String(cmd.ID), attrMode.String(d.mode),
	}
	if d.tries > 0 {
		attrs = append(attrs, attrDelivery.Int64(int64(min(d.tries, 1<<62))))
	}
	return c.tracer.Start(ctx, spanCommandPrefix+name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}
