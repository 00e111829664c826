package events_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/telemetry/telemetrytest"
)

func TestPublishCountsEvents(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	ensureStream(t, js)
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics())
	p := newPublisher(t, js, events.PublisherConfig{Metrics: m})
	evs := events.Examples()
	line := evs[4]
	if line.Type != events.ChatLine {
		t.Fatalf("Examples()[4] is %s, want a chat.line", line.Type)
	}
	if err := p.Publish(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(ctx, line); err != nil { // JetStream drops the copy
		t.Fatal(err)
	}

	typ := map[string]string{"type": string(events.ChatLine)}
	if got := telemetrytest.Value(t, m, "lpbridge_events_published_total", typ); got != 2 {
		t.Errorf("chat.line published = %v, want 2 (the copy included)", got)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_events_duplicate_total", typ); got != 1 {
		t.Errorf("chat.line duplicates = %v, want 1", got)
	}
	if got := telemetrytest.Sum(t, m, "lpbridge_events_published_total", nil); got != float64(len(evs)+1) {
		t.Errorf("published = %v, want %d", got, len(evs)+1)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_publish_duration_seconds", nil); got != float64(len(evs)+1) {
		t.Errorf("publish latency samples = %v, want %d", got, len(evs)+1)
	}
	if got := telemetrytest.Sum(t, m, "lpbridge_events_publish_failures_total", nil); got != 0 {
		t.Errorf("failures = %v, want 0", got)
	}

	// No stream captures this prefix: JetStream does not ack.
	lost := newPublisher(t, js, events.PublisherConfig{Prefix: "nowhere", Metrics: m})
	if err := lost.Publish(ctx, line); !errors.Is(err, events.ErrPublish) {
		t.Fatalf("publish without a stream: err = %v, want ErrPublish", err)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_events_publish_failures_total", typ); got != 1 {
		t.Errorf("chat.line failures = %v, want 1", got)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_events_published_total", typ); got != 2 {
		t.Errorf("chat.line published = %v after a failure, want still 2", got)
	}
}

func TestPublishCarriesTheTraceOfTheContext(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	for _, enc := range []events.Encoding{events.Binary, events.Structured} {
		t.Run(string(enc), func(t *testing.T) {
			ctx := testContext(t)
			_, nc, js := natstest.RunServer(t)
			ensureStream(t, js)
			sub, err := nc.SubscribeSync("lp.evt.>")
			if err != nil {
				t.Fatal(err)
			}
			p := newPublisher(t, js, events.PublisherConfig{Encoding: enc})
			evs := events.Examples()
			untraced, own := evs[0], evs[4] // an agent event without, a chat event with a traceparent
			if untraced.TraceParent != "" || own.TraceParent == "" {
				t.Fatalf("examples changed: %q / %q", untraced.TraceParent, own.TraceParent)
			}
			sctx, span := tp.Tracer("test").Start(ctx, "lpbridge.poll")
			if err := p.Publish(sctx, untraced, own); err != nil {
				t.Fatal(err)
			}
			span.End()
			if err := p.Publish(ctx, evs[1]); err != nil { // outside any span
				t.Fatal(err)
			}

			sc := span.SpanContext()
			wantTP := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"
			for i, want := range []string{wantTP, own.TraceParent, ""} {
				msg, err := sub.NextMsg(testTimeout)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if got := traceParentOnWire(t, msg, enc); got != want {
					t.Errorf("message %d traceparent on the wire = %q, want %q", i, got, want)
				}
				ce, err := events.Decode(msg)
				if err != nil {
					t.Fatal(err)
				}
				got, err := events.FromCloudEvent(ce)
				if err != nil {
					t.Fatal(err)
				}
				if got.TraceParent != want {
					t.Errorf("message %d decoded TraceParent = %q, want %q", i, got.TraceParent, want)
				}
			}
		})
	}
}

// traceParentOnWire reads the traceparent extension as the encoding lays it
// out: the ce-traceparent header (binary) or a member of the JSON body
// (structured).
func traceParentOnWire(t *testing.T, msg *nats.Msg, enc events.Encoding) string {
	t.Helper()
	if enc == events.Binary {
		return msg.Header.Get("ce-traceparent")
	}
	if msg.Header.Get("ce-traceparent") != "" {
		t.Errorf("structured message has a ce-traceparent header")
	}
	const key = `"traceparent":"`
	body := string(msg.Data)
	i := strings.Index(body, key)
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	return rest[:strings.IndexByte(rest, '"')]
}
