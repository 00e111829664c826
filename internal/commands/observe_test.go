package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/telemetry/telemetrytest"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// A bot's trace: the traceparent it sends with a command.
const (
	botTrace      = "4bf92f3577b34da6a3ce929d0e0e4736"
	botSpan       = "00f067aa0ba902b7"
	botParent     = "00-" + botTrace + "-" + botSpan + "-01"
	headerTracing = "traceparent"
)

func TestCommandsAreCounted(t *testing.T) {
	e := newEnv(t)
	// No WithCommands: the consumer declares its own command table.
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics())
	cfg := errorConfig()
	cfg.Metrics = m
	e.start(t, cfg)

	chatID := e.chattingChat(t, agentOne, skillA)
	send := map[string]any{"id": "send-1", "chatId": chatID, "text": "hello"}
	okResult[eventIDResult](t, e.request(t, agentOne, commands.ChatSend, send))
	okResult[eventIDResult](t, e.request(t, agentOne, commands.ChatSend, send)) // replayed
	wantCode(t, e.request(t, agentOne, commands.ChatSend, map[string]any{"chatId": "no-such-chat", "text": "x"}), commands.CodeChatNotFound)
	wantCode(t, e.request(t, "bot_nobody", commands.AgentInfo, nil), commands.CodeUnknownAgent)
	e.sessions.set(agentTwo, nil)
	wantCode(t, e.request(t, agentTwo, commands.AgentInfo, nil), commands.CodeSessionLost)
	wantCode(t, e.request(t, agentOne, "chat.dance", nil), commands.CodeUnknownCommand)

	// The reply goes out before the last steps count it: wait for the counts.
	type series struct {
		metric string
		labels map[string]string
		want   float64
	}
	want := []series{
		{"lpbridge_commands_total", map[string]string{"command": commands.ChatSend, "outcome": "ok"}, 1},
		{"lpbridge_commands_total", map[string]string{"command": commands.ChatSend, "outcome": "duplicate"}, 1},
		{"lpbridge_commands_total", map[string]string{"command": commands.ChatSend, "outcome": "invalid"}, 1},
		{"lpbridge_commands_total", map[string]string{"command": commands.AgentInfo, "outcome": "invalid"}, 1},
		{"lpbridge_commands_total", map[string]string{"command": commands.AgentInfo, "outcome": "error"}, 1},
		{"lpbridge_commands_total", map[string]string{"command": "other", "outcome": "invalid"}, 1}, // the made-up command stays out of the labels
		{"lpbridge_commands_total", nil, 6},
		// Of these, the made-up command and the unknown agent are
		// dead-lettered (bad input); the others were answered.
		{"lpbridge_commands_dead_lettered_total", map[string]string{"command": "other", "code": string(commands.CodeUnknownCommand)}, 1},
		{"lpbridge_commands_dead_lettered_total", map[string]string{"command": commands.AgentInfo, "code": string(commands.CodeUnknownAgent)}, 1},
		{"lpbridge_commands_dead_lettered_total", nil, 2},
	}
	testwait.Until(t, waitFor, func() error {
		var wrong []string
		for _, w := range want {
			got := telemetrytest.Sum(t, m, w.metric, nil)
			if w.labels != nil {
				got = telemetrytest.Value(t, m, w.metric, w.labels)
			}
			if got != w.want {
				wrong = append(wrong, fmt.Sprintf("%s%v = %v, want %v", w.metric, w.labels, got, w.want))
			}
		}
		if len(wrong) > 0 {
			return errors.New(strings.Join(wrong, "; "))
		}
		return nil
	})
}

// tracedEnv is a test world whose consumer traces into an in-memory exporter.
func tracedEnv(t *testing.T, mod func(*commands.Config)) (*env, *tracetest.InMemoryExporter) {
	t.Helper()
	e := newEnv(t)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	cfg := errorConfig()
	cfg.Tracer = tp
	if mod != nil {
		mod(&cfg)
	}
	e.start(t, cfg)
	return e, exp
}

// spanNamed waits for the ended span called name and returns it.
func spanNamed(t *testing.T, exp *tracetest.InMemoryExporter, name string) tracetest.SpanStub {
	t.Helper()
	var found tracetest.SpanStub
	testwait.Until(t, waitFor, func() error {
		for _, s := range exp.GetSpans() {
			if s.Name == name {
				found = s
				return nil
			}
		}
		return fmt.Errorf("no span %q among %d", name, len(exp.GetSpans()))
	})
	return found
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, a := range s.Attributes {
		out[a.Key] = a.Value
	}
	return out
}

// continuesBot fails unless span is a child of the bot's remote span.
func continuesBot(t *testing.T, span tracetest.SpanStub) {
	t.Helper()
	if span.Parent.TraceID().String() != botTrace || span.Parent.SpanID().String() != botSpan || !span.Parent.IsRemote() {
		t.Errorf("span %q parent = %s/%s (remote %v), want the bot's %s/%s", span.Name,
			span.Parent.TraceID(), span.Parent.SpanID(), span.Parent.IsRemote(), botTrace, botSpan)
	}
	if span.SpanContext.TraceID().String() != botTrace {
		t.Errorf("span %q trace %s, want the bot's %s", span.Name, span.SpanContext.TraceID(), botTrace)
	}
}

// spanParent is the traceparent naming span.
func spanParent(span tracetest.SpanStub) string {
	return "00-" + span.SpanContext.TraceID().String() + "-" + span.SpanContext.SpanID().String() + "-01"
}

// resultTraceParent waits for the command.result of a command id and
// returns its traceparent extension.
func (e *env) resultTraceParent(t *testing.T, commandID string) string {
	t.Helper()
	var tp string
	testwait.Until(t, waitFor, func() error {
		for _, m := range e.results.all() {
			ce, err := events.Decode(m)
			if err != nil {
				return err
			}
			ev, err := events.FromCloudEvent(ce)
			if err != nil {
				return err
			}
			if ev.Data.(events.CommandResultData).CommandID == commandID {
				tp = ev.TraceParent
				return nil
			}
		}
		return fmt.Errorf("no command.result for %q", commandID)
	})
	return tp
}

func TestCommandContinuesTheCallersTrace(t *testing.T) {
	e, exp := tracedEnv(t, nil)
	m := nats.NewMsg(commands.RequestSubject("lp", account, agentOne, commands.AgentStatus))
	m.Header.Set(headerTracing, botParent)
	m.Data = []byte(`{"id":"status-1","status":"Away"}`)
	res, err := e.nc.RequestMsg(m, waitFor)
	if err != nil {
		t.Fatalf("request: %v", err)
	}

	span := spanNamed(t, exp, "lpbridge.command agent.status")
	continuesBot(t, span)
	if span.SpanKind != trace.SpanKindServer || span.Status.Code == otelcodes.Error {
		t.Errorf("span kind %v status %v, want a server span without error", span.SpanKind, span.Status)
	}
	a := attrs(span)
	if a["lpbridge.command"].AsString() != commands.AgentStatus || a["lpbridge.agent"].AsString() != agentOne ||
		a["lpbridge.command.id"].AsString() != "status-1" || a["lpbridge.command.outcome"].AsString() != "ok" {
		t.Errorf("span attributes %v, want command, agent, id and outcome ok", span.Attributes)
	}
	if got := res.Header.Get(headerTracing); got != spanParent(span) {
		t.Errorf("reply traceparent %q, want the command span's %q", got, spanParent(span))
	}
	if got := e.resultTraceParent(t, "status-1"); got != spanParent(span) {
		t.Errorf("command.result traceparent %q, want the command span's %q", got, spanParent(span))
	}
}

func TestFailedCommandSpanHasErrorStatus(t *testing.T) {
	e, exp := tracedEnv(t, nil)
	m := nats.NewMsg(commands.RequestSubject("lp", account, agentOne, commands.ChatClose))
	m.Header.Set(headerTracing, botParent)
	m.Data = []byte(`{"chatId":"no-such-chat"}`)
	wantCode(t, e.requestMsg(t, m), commands.CodeChatNotFound)

	span := spanNamed(t, exp, "lpbridge.command chat.close")
	continuesBot(t, span)
	if span.Status.Code != otelcodes.Error || !strings.HasPrefix(span.Status.Description, "chat_not_found") {
		t.Errorf("span status %+v, want an error naming chat_not_found", span.Status)
	}
	a := attrs(span)
	if a["lpbridge.command.outcome"].AsString() != "invalid" || a["lpbridge.command.code"].AsString() != "chat_not_found" {
		t.Errorf("span attributes %v, want outcome invalid, code chat_not_found", span.Attributes)
	}
}

func TestCloudEventCommandContinuesItsTrace(t *testing.T) {
	e, exp := tracedEnv(t, nil)
	body := `{"specversion":"1.0","id":"ce-info-1","source":"bot://x","type":"lpbridge.command",` +
		`"traceparent":"` + botParent + `","datacontenttype":"application/json","data":{}}`
	m := nats.NewMsg(commands.RequestSubject("lp", account, agentOne, commands.AgentInfo))
	m.Data = []byte(body)
	res, err := e.nc.RequestMsg(m, waitFor)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	span := spanNamed(t, exp, "lpbridge.command agent.info")
	continuesBot(t, span)
	if got := res.Header.Get(headerTracing); got != spanParent(span) {
		t.Errorf("reply traceparent %q, want %q", got, spanParent(span))
	}
}

func TestDurableCommandContinuesItsTrace(t *testing.T) {
	e, exp := tracedEnv(t, func(c *commands.Config) { c.Durable = true })
	m := nats.NewMsg(commands.DurableSubject("lp", account, agentOne, commands.AgentStatus))
	m.Header.Set(headerTracing, botParent)
	m.Data = []byte(`{"id":"dstatus-1","status":"Online"}`)
	if _, err := e.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatalf("publish: %v", err)
	}
	span := spanNamed(t, exp, "lpbridge.command agent.status")
	continuesBot(t, span)
	if span.SpanKind != trace.SpanKindConsumer || attrs(span)["lpbridge.command.delivery"].AsInt64() != 1 {
		t.Errorf("span kind %v attributes %v, want a consumer span of delivery 1", span.SpanKind, span.Attributes)
	}
	if got := e.resultTraceParent(t, "dstatus-1"); got != spanParent(span) {
		t.Errorf("command.result traceparent %q, want %q", got, spanParent(span))
	}
}

// Without a tracer the bridge makes no spans but passes the caller's trace
// context through, so the bot's trace still links reply and result.
func TestWithoutTracerTheTraceParentPassesThrough(t *testing.T) {
	e := newEnv(t)
	e.start(t, errorConfig())
	m := nats.NewMsg(commands.RequestSubject("lp", account, agentOne, commands.AgentInfo))
	m.Header.Set(headerTracing, botParent)
	m.Data = []byte(`{"id":"info-pass"}`)
	res, err := e.nc.RequestMsg(m, waitFor)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if got := res.Header.Get(headerTracing); got != botParent {
		t.Errorf("reply traceparent %q, want the caller's %q", got, botParent)
	}
	if got := e.resultTraceParent(t, "info-pass"); got != botParent {
		t.Errorf("command.result traceparent %q, want the caller's %q", got, botParent)
	}
	plain, err := e.nc.Request(commands.RequestSubject("lp", account, agentOne, commands.AgentInfo), nil, waitFor)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if got := plain.Header.Get(headerTracing); got != "" {
		t.Errorf("reply to an untraced command has traceparent %q", got)
	}
}
