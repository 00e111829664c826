package telemetry_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// exercise calls every method once, so every metric has a series.
func exercise(m *telemetry.Metrics) {
	m.ObserveLPRequest(opLogin, 200, 20*time.Millisecond)
	m.LPRetry(opChatEvents, telemetry.RetryServerError)
	m.LPLogin(telemetry.LoginOK)
	m.AgentSessionRestart(telemetry.RestartSessionLost)
	m.ObservePoll(150 * time.Millisecond)
	m.EventPublished("lpbridge.chat.line", true, 3*time.Millisecond)
	m.EventPublishFailed("lpbridge.chat.line")
	m.CommandHandled("chat.send", telemetry.CommandOK)
	m.AddAgentsActive(1)
	m.AddChatsActive(2)
	m.ObserveCursorLag(2 * time.Second)
	m.PublishStarted()()
	m.JetStreamRetried(telemetry.JetStreamKV)
	m.EventsStoredAfterFailure(1)
}

// wantNames are the names the dashboards and alerts rely on.
func wantNames() []string {
	return []string{
		"lpbridge_lp_requests_total",
		"lpbridge_lp_retries_total",
		"lpbridge_lp_request_duration_seconds",
		"lpbridge_lp_logins_total",
		"lpbridge_agent_session_restarts_total",
		"lpbridge_poll_duration_seconds",
		"lpbridge_events_published_total",
		"lpbridge_events_duplicate_total",
		"lpbridge_events_publish_failures_total",
		"lpbridge_publish_duration_seconds",
		"lpbridge_commands_total",
		"lpbridge_agents_active",
		"lpbridge_chats_active",
		"lpbridge_cursor_lag_seconds",
		"lpbridge_event_publish_busy_seconds_total",
		"lpbridge_events_stored_after_failure_total",
		"lpbridge_jetstream_retries_total",
	}
}

func TestMetricsPassLint(t *testing.T) {
	m := telemetry.NewMetrics() // with the Go and process collectors
	exercise(m)
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	if f := family(t, m.Registry(), "go_goroutines"); f == nil {
		t.Error("go runtime metrics missing from the default registry")
	}
}

func TestMetricsExposeEveryName(t *testing.T) {
	m := newMetrics(t)
	exercise(m)
	for _, name := range wantNames() {
		if family(t, m.Registry(), name) == nil {
			t.Errorf("%s not exposed", name)
		}
	}
	if f := family(t, m.Registry(), "go_goroutines"); f != nil {
		t.Error("WithoutRuntimeMetrics still registers the Go collector")
	}
}

func TestMetricsCount(t *testing.T) {
	m := newMetrics(t, lpOperations(), telemetry.WithEventTypes("lpbridge.chat.line", "lpbridge.agent.status", "lpbridge.chat.transcript"),
		telemetry.WithCommands("chat.send", "chat.close"))
	reg := m.Registry()
	m.ObserveLPRequest(opLogin, 200, time.Millisecond)
	m.ObserveLPRequest(opLogin, 201, time.Millisecond)
	m.ObserveLPRequest(opLogin, 429, time.Millisecond)
	m.ObserveLPRequest(opChatEvents, 503, time.Millisecond)
	m.ObserveLPRequest(opChatEvents, 0, time.Millisecond)
	m.LPRetry(opChatEvents, telemetry.RetryReasonFor(503))
	m.LPRetry(opLogin, telemetry.RetryReasonFor(429))
	m.LPRetry(opLogin, telemetry.RetryReasonFor(0))
	m.LPLogin(telemetry.LoginBlocked)
	m.AgentSessionRestart(telemetry.RestartAuthLost)
	m.EventPublished("lpbridge.chat.line", false, time.Millisecond)
	m.EventPublished("lpbridge.chat.line", true, time.Millisecond)
	m.EventPublished("lpbridge.agent.status", false, time.Millisecond)
	m.CommandHandled("chat.send", telemetry.CommandOK)
	m.CommandHandled("chat.send", telemetry.CommandDuplicate)
	m.AddAgentsActive(3)
	m.AddAgentsActive(-1)
	m.AddChatsActive(5)
	m.ObserveCursorLag(-time.Second) // clock skew
	m.ObservePoll(time.Second)

	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"lpbridge_lp_requests_total", map[string]string{"operation": "login", "code": "2xx"}, 2},
		{"lpbridge_lp_requests_total", map[string]string{"operation": "login", "code": "4xx"}, 1},
		{"lpbridge_lp_requests_total", map[string]string{"operation": "chat.events", "code": "5xx"}, 1},
		{"lpbridge_lp_requests_total", map[string]string{"operation": "chat.events", "code": "error"}, 1},
		{"lpbridge_lp_request_duration_seconds", map[string]string{"operation": "login"}, 3},
		{"lpbridge_lp_retries_total", map[string]string{"operation": "chat.events", "reason": "server_error"}, 1},
		{"lpbridge_lp_retries_total", map[string]string{"operation": "login", "reason": "rate_limited"}, 1},
		{"lpbridge_lp_retries_total", map[string]string{"operation": "login", "reason": "network"}, 1},
		{"lpbridge_lp_logins_total", map[string]string{"result": "blocked"}, 1},
		{"lpbridge_lp_logins_total", map[string]string{"result": "ok"}, 0}, // pre-created
		{"lpbridge_agent_session_restarts_total", map[string]string{"reason": "auth_lost"}, 1},
		{"lpbridge_events_published_total", map[string]string{"type": "lpbridge.chat.line"}, 2},
		{"lpbridge_events_published_total", map[string]string{"type": "lpbridge.agent.status"}, 1},
		{"lpbridge_events_published_total", map[string]string{"type": "lpbridge.chat.transcript"}, 0},
		{"lpbridge_events_duplicate_total", map[string]string{"type": "lpbridge.chat.line"}, 1},
		{"lpbridge_events_duplicate_total", map[string]string{"type": "lpbridge.agent.status"}, 0},
		{"lpbridge_publish_duration_seconds", nil, 3},
		{"lpbridge_commands_total", map[string]string{"command": "chat.send", "outcome": "ok"}, 1},
		{"lpbridge_commands_total", map[string]string{"command": "chat.send", "outcome": "duplicate"}, 1},
		{"lpbridge_commands_total", map[string]string{"command": "chat.close", "outcome": "error"}, 0},
		{"lpbridge_agents_active", nil, 2},
		{"lpbridge_chats_active", nil, 5},
		{"lpbridge_cursor_lag_seconds", nil, 1},
		{"lpbridge_poll_duration_seconds", nil, 1},
	}
	for _, tt := range tests {
		if got := value(t, reg, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	// The negative lag landed in the lowest bucket, as 0.
	h := family(t, reg, "lpbridge_cursor_lag_seconds").GetMetric()[0].GetHistogram()
	if h.GetSampleSum() != 0 || h.GetBucket()[0].GetCumulativeCount() != 1 {
		t.Errorf("negative cursor lag: sum %v, first bucket %v; want 0 and 1", h.GetSampleSum(), h.GetBucket()[0].GetCumulativeCount())
	}
}

// Chat ids, agent names or made-up command subjects passed as label values
// must not create series: they all become "other".
func TestMetricsLabelsStayBounded(t *testing.T) {
	m := newMetrics(t)
	reg := m.Registry()
	for i := range 500 {
		junk := fmt.Sprintf("H555000%d-abcK84%d", i, i)
		m.ObserveLPRequest(junk, 200+i, time.Millisecond)
		m.LPRetry(junk, telemetry.RetryReason(junk))
		m.LPLogin(telemetry.LoginResult(junk))
		m.AgentSessionRestart(telemetry.RestartReason(junk))
		m.EventPublished(junk, i%2 == 0, time.Millisecond)
		m.EventPublishFailed(junk)
		m.CommandHandled(junk, telemetry.CommandOutcome(junk))
	}
	limits := map[string]map[string]int{
		"lpbridge_lp_requests_total":             {"operation": 1, "code": 5}, // 2xx..5xx + other
		"lpbridge_lp_request_duration_seconds":   {"operation": 1},
		"lpbridge_lp_retries_total":              {"operation": 1, "reason": 1},
		"lpbridge_lp_logins_total":               {"result": 6},
		"lpbridge_agent_session_restarts_total":  {"reason": 4},
		"lpbridge_events_published_total":        {"type": 13},
		"lpbridge_events_duplicate_total":        {"type": 13},
		"lpbridge_events_publish_failures_total": {"type": 13},
		"lpbridge_commands_total":                {"command": 1, "outcome": 5}, // no command declared: only other
	}
	for name, labels := range limits {
		for label, limit := range labels {
			vals := labelValues(t, reg, name, label)
			if len(vals) > limit {
				t.Errorf("%s: label %s has %d values, want at most %d", name, label, len(vals), limit)
			}
			for v := range vals {
				if strings.Contains(v, "H555") {
					t.Errorf("%s: label %s carries the input %q", name, label, v)
				}
			}
		}
	}
	if got := value(t, reg, "lpbridge_commands_total", map[string]string{"command": "other", "outcome": "other"}); got != 500 {
		t.Errorf("junk commands counted %v times as other/other, want 500", got)
	}
}

func TestMetricsOptionsExtendTheKnownSets(t *testing.T) {
	m := newMetrics(t, telemetry.WithCommands("agent.info"), telemetry.WithEventTypes("lpbridge.chat.custom"),
		telemetry.WithOperations("custom.op"))
	m.CommandHandled("agent.info", telemetry.CommandOK)
	m.EventPublished("lpbridge.chat.custom", false, time.Millisecond)
	m.ObserveLPRequest("custom.op", 200, time.Millisecond)
	reg := m.Registry()
	if got := value(t, reg, "lpbridge_commands_total", map[string]string{"command": "agent.info", "outcome": "ok"}); got != 1 {
		t.Errorf("agent.info ok = %v, want 1", got)
	}
	if got := value(t, reg, "lpbridge_events_published_total", map[string]string{"type": "lpbridge.chat.custom"}); got != 1 {
		t.Errorf("custom type = %v, want 1", got)
	}
	if got := value(t, reg, "lpbridge_lp_requests_total", map[string]string{"operation": "custom.op", "code": "2xx"}); got != 1 {
		t.Errorf("custom.op = %v, want 1", got)
	}
}

// Two Metrics never share state: there is no global registry.
func TestMetricsAreIndependent(t *testing.T) {
	a, b := newMetrics(t), newMetrics(t)
	a.LPLogin(telemetry.LoginOK)
	if got := value(t, b.Registry(), "lpbridge_lp_logins_total", map[string]string{"result": "ok"}); got != 0 {
		t.Errorf("a login on one Metrics shows on another: %v", got)
	}
}

func TestNilMetricsIgnoresCalls(t *testing.T) {
	var m *telemetry.Metrics
	exercise(m) // must not panic
	if rt := telemetry.InstrumentTransport(nil, m, nil); rt == nil {
		t.Error("InstrumentTransport with nil Metrics returned nil")
	}
}

func TestLPRetryRequestNamesOperationAndReason(t *testing.T) {
	m := newMetrics(t, lpOperations())
	m.LPRetryRequest(opChatEvents, 503)
	m.LPRetryRequest(opChatEventsAdd, 0)
	m.LPRetryRequest(opLogin, 429)
	m.LPRetryRequest("H1-abcK2", 503) // not a known operation
	var nilMetrics *telemetry.Metrics
	nilMetrics.LPRetryRequest(opChatEvents, 503) // nil-safe

	for _, tt := range []struct {
		op, reason string
	}{
		{opChatEvents, "server_error"},
		{opChatEventsAdd, "network"},
		{opLogin, "rate_limited"},
		{"other", "server_error"},
	} {
		if got := value(t, m.Registry(), "lpbridge_lp_retries_total", map[string]string{"operation": tt.op, "reason": tt.reason}); got != 1 {
			t.Errorf("retries{%s,%s} = %v, want 1", tt.op, tt.reason, got)
		}
	}
}
