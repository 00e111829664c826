package commands

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/tracing"
)

// observed counts every handled command, notes its outcome on its span
// and logs it, whatever became of it.
func (c *Consumer) observed(next step) step {
	return func(ctx context.Context, d *delivery) outcome {
		out := next(ctx, d)
		c.observe(ctx, out)
		c.logOutcome(ctx, out, d.mode, time.Since(d.received))
		return out
	}
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

// logOutcome logs one handled command (never its body: it holds chat text).
func (c *Consumer) logOutcome(ctx context.Context, out outcome, mode string, elapsed time.Duration) {
	attrs := []slog.Attr{
		slog.String("mode", mode), slog.String("command", out.cmd.Name), slog.String("agent", out.cmd.Agent),
		slog.String("id", out.cmd.ID), slog.Bool("ok", out.reply.OK), slog.Bool("replayed", out.replayed),
		slog.Int("attempt", out.attempt), slog.Duration("elapsed", elapsed),
	}
	level := slog.LevelDebug
	if out.err != nil {
		attrs = append(attrs, slog.String("code", string(out.err.Code)), slog.String("error", clip(out.err.Message)))
		level = slog.LevelInfo
		if out.deadLetter {
			level = slog.LevelWarn
		}
	}
	c.logger.LogAttrs(ctx, level, "command handled", attrs...)
}
