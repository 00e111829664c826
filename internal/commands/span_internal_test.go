package commands

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestTracedRunsTheRestInTheCommandSpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	e := newStepEnv(t, noSessions{}, func(c *Config) { c.Tracer = tp })

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	d := e.delivery(modeDurable, AgentStatus, "span-1")
	d.cmd.TraceParent = parent
	d.tries = 2
	s := &stub{out: outcome{cmd: d.cmd, final: true}}
	e.c.traced(s.step)(context.Background(), d)

	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans ended, want 1", len(spans))
	}
	sp := spans[0]
	if inner := trace.SpanFromContext(s.ctx).SpanContext(); inner.SpanID() != sp.SpanContext.SpanID() {
		t.Errorf("the next step runs in span %s, want the command span %s", inner.SpanID(), sp.SpanContext.SpanID())
	}
	if sp.Name != "lpbridge.command agent.status" || sp.SpanKind != trace.SpanKindConsumer {
		t.Errorf("span %q kind %v, want lpbridge.command agent.status, consumer", sp.Name, sp.SpanKind)
	}
	if sp.Parent.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || !sp.Parent.IsRemote() {
		t.Errorf("span parent %v, want the command's traceparent", sp.Parent)
	}
	attrs := map[string]string{}
	for _, a := range sp.Attributes {
		attrs[string(a.Key)] = a.Value.String()
	}
	for k, want := range map[string]string{"lpbridge.command.id": "span-1", "lpbridge.command.mode": "durable", "lpbridge.command.delivery": "2"} {
		if attrs[k] != want {
			t.Errorf("span attribute %s = %q, want %q", k, attrs[k], want)
		}
	}
}
