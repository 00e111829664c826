package telemetrytest_test

import (
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/telemetry/telemetrytest"
)

func TestValueAndSum(t *testing.T) {
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics(), telemetry.WithEventTypes("lpbridge.chat.line", "lpbridge.chat.info"))
	m.EventPublished("lpbridge.chat.line", true, time.Millisecond)
	m.EventPublished("lpbridge.chat.line", false, time.Millisecond)
	m.EventPublished("lpbridge.chat.info", false, time.Millisecond)
	m.AddChatsActive(2)

	if got := telemetrytest.Value(t, m, "lpbridge_events_published_total", map[string]string{"type": "lpbridge.chat.line"}); got != 2 {
		t.Errorf("chat.line published = %v, want 2", got)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_events_duplicate_total", map[string]string{"type": "lpbridge.chat.line"}); got != 1 {
		t.Errorf("chat.line duplicates = %v, want 1", got)
	}
	if got := telemetrytest.Sum(t, m, "lpbridge_events_published_total", nil); got != 3 {
		t.Errorf("all published = %v, want 3", got)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_publish_duration_seconds", nil); got != 3 {
		t.Errorf("publish duration samples = %v, want 3", got)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_chats_active", nil); got != 2 {
		t.Errorf("chats active = %v, want 2", got)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_commands_total", map[string]string{"command": "nope", "outcome": "ok"}); got != 0 {
		t.Errorf("absent series = %v, want 0", got)
	}
}
