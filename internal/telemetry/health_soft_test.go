package telemetry_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// TestReadyzSoftCheckIsDegraded: a failing soft check (an agent LivePerson
// refused for good) is named with its reason under "degraded" and keeps
// the 200; a failing hard check still makes it 503.
func TestReadyzSoftCheckIsDegraded(t *testing.T) {
	var h telemetry.Health
	h.Register("poll.bot.one", func(context.Context) error { return nil })
	h.RegisterSoft("agent.bot.two", func(context.Context) error { return errors.New("login refused: 401 unauthorized") })
	code, body := softReadyz(t, &h)
	if code != http.StatusOK || body.Status != "degraded" || len(body.Failing) != 0 {
		t.Errorf("soft failure: %d %+v, want 200 degraded with nothing failing", code, body)
	}
	if len(body.Degraded) != 1 || body.Degraded[0] != "agent.bot.two" || body.Checks["agent.bot.two"] != "login refused: 401 unauthorized" {
		t.Errorf("degraded %v checks %v, want agent.bot.two with its reason", body.Degraded, body.Checks)
	}
	h.Register("nats", func(context.Context) error { return errors.New("not connected") })
	if code, body := softReadyz(t, &h); code != http.StatusServiceUnavailable || body.Status != "unavailable" || len(body.Degraded) != 1 {
		t.Errorf("hard and soft failure: %d %+v, want 503 unavailable, still naming the degraded agent", code, body)
	}
	// Register again as a hard check: no longer soft.
	h.Register("agent.bot.two", func(context.Context) error { return errors.New("down") })
	h.Register("nats", func(context.Context) error { return nil })
	if code, _ := softReadyz(t, &h); code != http.StatusServiceUnavailable {
		t.Errorf("re-registered hard check: %d, want 503", code)
	}
}

type softReply struct {
	Status   string            `json:"status"`
	Failing  []string          `json:"failing"`
	Degraded []string          `json:"degraded"`
	Checks   map[string]string `json:"checks"`
}

func softReadyz(t *testing.T, h *telemetry.Health) (int, softReply) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.Readyz(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body softReply
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("readyz body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, body
}

// TestAgentsFailedGauge: the failed-agents gauge follows AddAgentsFailed.
func TestAgentsFailedGauge(t *testing.T) {
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics())
	m.AddAgentsFailed(2)
	m.AddAgentsFailed(-1)
	if got := value(t, m.Registry(), "lpbridge_agents_failed", nil); got != 1 {
		t.Errorf("lpbridge_agents_failed = %v, want 1", got)
	}
}
