package commands

import (
	"context"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/tracing"
)

// Modes of handling, in logs and spans.
const (
	modeRequest = "request"
	modeDurable = "durable"
)

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
func (c *Consumer) startSpan(ctx context.Context, m *nats.Msg, cmd Command, mode string, delivery uint64) (context.Context, trace.Span) {
	ctx = tracing.ContextWithParent(ctx, cmd.TraceParent, headerGet(m.Header, tracing.HeaderTraceState))
	name := cmd.Name
	if !Known(name) {
		name = unknownToken
	}
	kind := trace.SpanKindServer // the sender waits for the reply
	if mode == modeDurable {
		kind = trace.SpanKindConsumer
	}
	attrs := []attribute.KeyValue{
		attrCommand.String(cmd.Name), attrAgent.String(cmd.Agent), attrCommandID.String(cmd.ID), attrMode.String(mode),
	}
	if delivery > 0 {
		attrs = append(attrs, attrDelivery.Int64(int64(min(delivery, 1<<62))))
	}
	return c.tracer.Start(ctx, spanCommandPrefix+name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// observe counts the handled command and notes its outcome on the span in
// ctx: the error status carries the code and the reply's message, which
// never holds secrets (it goes back to the sender as it is).
func (c *Consumer) observe(ctx context.Context, out outcome) {
	o := metricOutcome(out)
	c.cfg.Metrics.CommandHandled(out.cmd.Name, o)
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attrOutcome.String(string(o)), attrReplayed.Bool(out.replayed))
	if out.err == nil {
		return
	}
	span.SetAttributes(attrCode.String(string(out.err.Code)))
	msg := string(out.err.Code)
	if out.reply.Error != nil && out.reply.Error.Message != "" {
		msg += ": " + out.reply.Error.Message
	}
	span.SetStatus(codes.Error, msg)
}

// metricOutcome is the commands_total outcome of out: a replayed result is
// a duplicate; input that can never run (bad body, unknown command, agent
// or chat, nothing ringing) is invalid; any other failure is an error.
func metricOutcome(out outcome) telemetry.CommandOutcome {
	switch {
	case out.replayed:
		return telemetry.CommandDuplicate
	case out.err == nil:
		return telemetry.CommandOK
	}
	switch out.err.Code {
	case CodeBadRequest, CodeUnknownCommand, CodeUnknownAgent, CodeChatNotFound, CodeNotRinging:
		return telemetry.CommandInvalid
	}
	return telemetry.CommandError
}

// traceParent is the traceparent of a command's command.result event: that
// of the command's span in ctx, else the one the command came with.
func traceParent(ctx context.Context, cmd Command) string {
	if tp := tracing.TraceParent(ctx); tp != "" {
		return tp
	}
	return cmd.TraceParent
}
