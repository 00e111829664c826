package commands

import (
	"context"
	"strings"
	"testing"

	otelcodes "go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/telemetry/telemetrytest"
)

func TestObservedCountsNotesAndLogs(t *testing.T) {
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics(), telemetry.WithCommands(Names()...))
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	e := newStepEnv(t, noSessions{}, func(c *Config) { c.Metrics = m })

	d := e.delivery(modeDurable, AgentStatus, "obs-1")
	ctx, span := tp.Tracer("test").Start(context.Background(), "command")
	e.c.observed((&stub{out: failure(d.cmd, failf(CodeChatNotFound, "no such chat"), 1)}).step)(ctx, d)
	span.End()

	labels := map[string]string{"command": AgentStatus, "outcome": string(telemetry.CommandInvalid)}
	if got := telemetrytest.Value(t, m, "lpbridge_commands_total", labels); got != 1 {
		t.Errorf("commands_total%v = %v, want 1", labels, got)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Status.Code != otelcodes.Error || !strings.HasPrefix(spans[0].Status.Description, "chat_not_found") {
		t.Errorf("span status %+v, want an error naming chat_not_found", spans)
	}
	log := e.log.String()
	for _, want := range []string{"command handled", "mode=durable", "command=agent.status", "id=obs-1", "code=chat_not_found"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q: %s", want, log)
		}
	}
}
