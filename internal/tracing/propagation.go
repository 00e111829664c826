package tracing

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// W3C Trace Context header names (https://www.w3.org/TR/trace-context/).
const (
	HeaderTraceParent = "traceparent"
	HeaderTraceState  = "tracestate"
)

// TraceParent returns the W3C traceparent of the span in ctx, "" when ctx
// holds no valid span context (no tracing, or a no-op tracer without a
// caller's trace).
func TraceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c[HeaderTraceParent]
}

// Inject writes the W3C trace context of the span in ctx through set:
// traceparent, and tracestate when there is one. It writes nothing when ctx
// holds no valid span context. For NATS headers: Inject(ctx, msg.Header.Set).
func Inject(ctx context.Context, set func(name, value string)) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	for _, name := range []string{HeaderTraceParent, HeaderTraceState} {
		if v := c[name]; v != "" {
			set(name, v)
		}
	}
}

// ContextWithParent returns ctx carrying the remote span context that
// traceparent (and tracestate, which may be "") describe, so that the next
// span started from it continues the caller's trace. An empty or malformed
// traceparent leaves ctx as it is.
func ContextWithParent(ctx context.Context, traceparent, tracestate string) context.Context {
	if traceparent == "" {
		return ctx
	}
	c := propagation.MapCarrier{HeaderTraceParent: traceparent}
	if tracestate != "" {
		c[HeaderTraceState] = tracestate
	}
	return propagation.TraceContext{}.Extract(ctx, c)
}
