package poller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/telemetry/telemetrytest"
)

// observed is a worker world whose publisher and worker record into m.
func observed(t *testing.T, e *env) (*telemetry.Metrics, *events.Publisher) {
	t.Helper()
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics())
	pub, err := events.NewPublisher(e.js, events.PublisherConfig{Metrics: m}, nil)
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	return m, pub
}

// waitMetric waits until the series name{labels} of m satisfies ok.
func waitMetric(t *testing.T, m *telemetry.Metrics, name string, labels map[string]string, want string, ok func(float64) bool) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%s%v %s", name, labels, want), func() string {
		if v := telemetrytest.Value(t, m, name, labels); !ok(v) {
			return fmt.Sprintf("is %v", v)
		}
		return ""
	})
}

func equals(want float64) func(float64) bool { return func(v float64) bool { return v == want } }

// TestMetricsFollowAChat: one chat from ring to end moves the counters, and
// the gauges come back to where they were.
func TestMetricsFollowAChat(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	m, pub := observed(t, e)
	col := e.collect()
	w := e.worker(config(func(c *poller.Config) { c.Metrics = m }), nil, pub, nil)
	stop := run(t, w)

	chat := acceptedChat(t, e, col)
	waitMetric(t, m, "lpbridge_agents_active", nil, "= 1", equals(1))
	waitMetric(t, m, "lpbridge_chats_active", nil, "= 1", equals(1))
	e.visitorLine(chat, "hello")
	waitLine(col, chat, "hello")
	if err := e.sim.VisitorEnd(acct, chat); err != nil {
		t.Fatalf("VisitorEnd: %v", err)
	}
	col.waitEvent(events.ChatTranscript, chat, nil)
	waitMetric(t, m, "lpbridge_chats_active", nil, "back to 0 after the chat ended", equals(0))

	lines := col.of(events.ChatLine, chat)
	if got := telemetrytest.Value(t, m, "lpbridge_events_published_total", map[string]string{"type": string(events.ChatLine)}); got < float64(len(lines)) || len(lines) < 2 {
		t.Errorf("events_published_total{chat.line} = %v, want at least the %d line events", got, len(lines))
	}
	for _, typ := range []events.Type{events.ChatAccepted, events.ChatEnded, events.ChatTranscript, events.AgentSession} {
		if got := telemetrytest.Value(t, m, "lpbridge_events_published_total", map[string]string{"type": string(typ)}); got < 1 {
			t.Errorf("events_published_total{%s} = %v, want at least 1", typ, got)
		}
	}
	if got := telemetrytest.Value(t, m, "lpbridge_lp_logins_total", map[string]string{"result": "ok"}); got != 1 {
		t.Errorf("logins ok = %v, want 1", got)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_poll_duration_seconds", nil); got < 1 {
		t.Errorf("poll duration samples = %v, want one per tick", got)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_cursor_lag_seconds", nil); got < 2 {
		t.Errorf("cursor lag samples = %v, want one per cursor save with new events", got)
	}
	if got := telemetrytest.Sum(t, m, "lpbridge_agent_session_restarts_total", nil); got != 0 {
		t.Errorf("session restarts = %v, want 0", got)
	}
	if tp := lines[0].TraceParent; tp != "" {
		t.Errorf("line event has traceparent %q without tracing", tp)
	}

	stop()
	if got := telemetrytest.Value(t, m, "lpbridge_agents_active", nil); got != 0 {
		t.Errorf("agents_active = %v after stop, want 0", got)
	}
}

// TestGaugesAcrossSessionLossAndStop: a lost agent session counts a restart
// and a login; the gauges stay exact through it and drop to 0 when the
// worker stops with a chat still open.
func TestGaugesAcrossSessionLossAndStop(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	m, pub := observed(t, e)
	col := e.collect()
	w := e.worker(config(func(c *poller.Config) { c.Metrics = m }), nil, pub, nil)
	stop := run(t, w)
	chat := acceptedChat(t, e, col)
	waitMetric(t, m, "lpbridge_chats_active", nil, "= 1", equals(1))

	if err := e.sim.ExpireAgentSession(acct, login); err != nil {
		t.Fatalf("ExpireAgentSession: %v", err)
	}
	col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionRestarted })
	// The simulator answers the dead session with 401 (auth_lost) or 404
	// (session_lost); either way it is one restart, not an "error".
	waitUntil(t, "one session restart", func() string {
		if n := telemetrytest.Sum(t, m, "lpbridge_agent_session_restarts_total", nil); n != 1 {
			return fmt.Sprintf("%v restarts", n)
		}
		return ""
	})
	if n := telemetrytest.Value(t, m, "lpbridge_agent_session_restarts_total", map[string]string{"reason": "error"}); n != 0 {
		t.Errorf("restarts{error} = %v, want 0", n)
	}
	waitMetric(t, m, "lpbridge_lp_logins_total", map[string]string{"result": "ok"}, "= 2", equals(2))
	e.visitorLine(chat, "still here")
	waitLine(col, chat, "still here")
	waitMetric(t, m, "lpbridge_agents_active", nil, "= 1", equals(1))
	waitMetric(t, m, "lpbridge_chats_active", nil, "= 1", equals(1))

	stop()
	for _, name := range []string{"lpbridge_agents_active", "lpbridge_chats_active"} {
		if got := telemetrytest.Value(t, m, name, nil); got != 0 {
			t.Errorf("%s = %v after stop, want 0", name, got)
		}
	}
}

// TestLoginFailuresCounted: refused credentials count as an unauthorized
// login (one: a 401 on login is final) and a failed agent, and no agent
// becomes active.
func TestLoginFailuresCounted(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	m, pub := observed(t, e)
	w := e.worker(config(func(c *poller.Config) {
		c.Metrics = m
		c.Agent.Credentials = lpchat.Credentials{Username: login, Password: "wrong"}
	}), nil, pub, nil)
	run(t, w)
	waitMetric(t, m, "lpbridge_agents_failed", nil, "= 1", equals(1))
	if got := telemetrytest.Value(t, m, "lpbridge_lp_logins_total", map[string]string{"result": "unauthorized"}); got != 1 {
		t.Errorf("logins unauthorized = %v, want 1: a refused login is not retried", got)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_lp_logins_total", map[string]string{"result": "ok"}); got != 0 {
		t.Errorf("logins ok = %v, want 0", got)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_agents_active", nil); got != 0 {
		t.Errorf("agents_active = %v without a session, want 0", got)
	}
}

// TestPollTicksAreTraced: every tick is a span lpbridge.poll, and the events
// a tick publishes carry its traceparent.
func TestPollTicksAreTraced(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	col := e.collect()
	w := e.worker(config(func(c *poller.Config) { c.Tracer = tp }), nil, nil, nil)
	run(t, w)

	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "traced")
	line := col.waitEvent(events.ChatLine, chat, func(d any) bool { return d.(events.LineData).Text == "traced" })
	parts := strings.Split(line.TraceParent, "-")
	if len(parts) != 4 || parts[0] != "00" {
		t.Fatalf("line event traceparent = %q, want a W3C traceparent", line.TraceParent)
	}

	var span tracetest.SpanStub
	waitUntil(t, "the span of the tick that published the line", func() string {
		for _, s := range exp.GetSpans() {
			if s.SpanContext.TraceID().String() == parts[1] {
				span = s
				return ""
			}
		}
		return fmt.Sprintf("none among %d spans", len(exp.GetSpans()))
	})
	if span.Name != "lpbridge.poll" || span.SpanContext.SpanID().String() != parts[2] {
		t.Errorf("span %q %s, want lpbridge.poll with span id %s", span.Name, span.SpanContext.SpanID(), parts[2])
	}
	attrs := map[attribute.Key]attribute.Value{}
	for _, a := range span.Attributes {
		attrs[a.Key] = a.Value
	}
	if attrs["lpbridge.account"].AsString() != acct || attrs["lpbridge.agent"].AsString() != token {
		t.Errorf("span attributes %v, want account %s and agent %s", span.Attributes, acct, token)
	}
	if n := attrs["lpbridge.chat.count"].AsInt64(); n != 1 {
		t.Errorf("span chat count = %d, want 1", n)
	}
}
