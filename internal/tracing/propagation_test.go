package tracing_test

import (
	"context"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/lpbridge/lpbridge/internal/tracing"
)

// callerParent is a traceparent as a caller (a bot) would send it.
const callerParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func newProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

func TestContextWithParentContinuesTheCallersTrace(t *testing.T) {
	tp, exp := newProvider(t)
	ctx := tracing.ContextWithParent(context.Background(), callerParent, "vendor=1")
	ctx, span := tracing.Tracer(tp).Start(ctx, "child")
	span.End()

	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if got := s.Parent.TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" || !s.Parent.IsRemote() {
		t.Errorf("parent = %v (remote %v), want the caller's trace, remote", s.Parent, s.Parent.IsRemote())
	}
	if s.SpanContext.TraceID() != s.Parent.TraceID() || s.SpanContext.SpanID() == s.Parent.SpanID() {
		t.Errorf("span %v does not continue the caller's trace as a new span", s.SpanContext)
	}

	tp2 := tracing.TraceParent(ctx)
	want := "00-4bf92f3577b34da6a3ce929d0e0e4736-" + s.SpanContext.SpanID().String() + "-01"
	if tp2 != want {
		t.Errorf("TraceParent = %q, want %q (the child span)", tp2, want)
	}
	h := map[string]string{}
	tracing.Inject(ctx, func(k, v string) { h[k] = v })
	if h["traceparent"] != want || h["tracestate"] != "vendor=1" {
		t.Errorf("Inject wrote %v, want traceparent %s and the caller's tracestate", h, want)
	}
}

func TestContextWithParentIgnoresGarbage(t *testing.T) {
	for _, tp := range []string{"", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", strings.Repeat("x", 55)} {
		ctx := tracing.ContextWithParent(context.Background(), tp, "")
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			t.Errorf("ContextWithParent(%q) gave span context %v, want none", tp, sc)
		}
		if got := tracing.TraceParent(ctx); got != "" {
			t.Errorf("TraceParent after %q = %q, want empty", tp, got)
		}
		tracing.Inject(ctx, func(k, v string) { t.Errorf("Inject wrote %s=%s without a trace", k, v) })
	}
}

func TestTracerOfNilProviderIsNoop(t *testing.T) {
	ctx := tracing.ContextWithParent(context.Background(), callerParent, "")
	ctx, span := tracing.Tracer(nil).Start(ctx, "x")
	defer span.End()
	if span.IsRecording() {
		t.Error("nil provider records spans")
	}
	// Without tracing the caller's trace context still passes through.
	if got := tracing.TraceParent(ctx); got != callerParent {
		t.Errorf("TraceParent = %q, want the caller's %q passed through", got, callerParent)
	}
}
