package telemetry_test

import (
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// The event-type label set is what is declared (events.NewPublisher
// declares events.TypeNames): every declared type gets its own series, at 0
// before its first event, and an undeclared type is counted as "other".
func TestEventTypeLabelsAreTheDeclaredOnes(t *testing.T) {
	m := newMetrics(t)
	reg := m.Registry()
	m.EventPublished(string(events.ChatLine), false, time.Millisecond)
	if v := value(t, reg, "lpbridge_events_published_total", map[string]string{"type": "other"}); v != 1 {
		t.Errorf("an undeclared event type counted %v times as other, want 1", v)
	}
	if got := labelValues(t, reg, "lpbridge_events_published_total", "type"); len(got) != 1 {
		t.Errorf("before any declaration the type label has %v, want only other", got)
	}

	m.DeclareEventTypes(events.TypeNames()...)
	m.DeclareEventTypes(events.TypeNames()...) // twice is harmless
	got := labelValues(t, reg, "lpbridge_events_published_total", "type")
	for _, typ := range events.AllTypes() {
		if !got[string(typ)] {
			t.Errorf("no pre-created series for %s; have %v", typ, got)
		}
	}
	if want := len(events.AllTypes()) + 1; len(got) != want { // + "other"
		t.Errorf("%d event-type series, want %d: %v", len(got), want, got)
	}
	m.EventPublished(string(events.ChatLine), true, time.Millisecond)
	if v := value(t, reg, "lpbridge_events_duplicate_total", map[string]string{"type": string(events.ChatLine)}); v != 1 {
		t.Errorf("declared chat.line duplicates = %v, want 1", v)
	}
}

// Declaring while events are counted is safe (run with -race).
func TestDeclareEventTypesWhileCounting(t *testing.T) {
	m := newMetrics(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				m.EventPublished(string(events.ChatLine), false, time.Millisecond)
				m.EventPublishFailed(string(events.ChatInfo))
			}
		})
	}
	wg.Go(func() { m.DeclareEventTypes(events.TypeNames()...) })
	wg.Wait()
	var total float64
	for _, typ := range []string{string(events.ChatLine), "other"} {
		total += value(t, m.Registry(), "lpbridge_events_published_total", map[string]string{"type": typ})
	}
	if total != 400 {
		t.Errorf("published counted %v times, want 400", total)
	}
	var nilMetrics *telemetry.Metrics
	nilMetrics.DeclareEventTypes("x") // nil-safe
}

// The command label set is what is declared (commands.New declares
// commands.Names): each declared command has a series per outcome at 0,
// anything else is "other".
func TestCommandLabelsAreTheDeclaredOnes(t *testing.T) {
	m := newMetrics(t)
	reg := m.Registry()
	m.CommandHandled("chat.send", telemetry.CommandOK)
	if v := value(t, reg, "lpbridge_commands_total", map[string]string{"command": "other", "outcome": "ok"}); v != 1 {
		t.Errorf("an undeclared command counted %v times as other, want 1", v)
	}
	m.DeclareCommands("chat.send", "agent.info")
	m.DeclareCommands("chat.send") // twice is harmless
	got := labelValues(t, reg, "lpbridge_commands_total", "command")
	if len(got) != 3 || !got["chat.send"] || !got["agent.info"] || !got["other"] {
		t.Errorf("command label values %v, want chat.send, agent.info and other", got)
	}
	m.CommandHandled("chat.send", telemetry.CommandOK)
	if v := value(t, reg, "lpbridge_commands_total", map[string]string{"command": "chat.send", "outcome": "ok"}); v != 1 {
		t.Errorf("declared chat.send ok = %v, want 1", v)
	}
	var nilMetrics *telemetry.Metrics
	nilMetrics.DeclareCommands("x") // nil-safe
}

// Dead letters are counted by declared command and error code; anything
// else is "other".
func TestDeadLettersCountedByDeclaredCodes(t *testing.T) {
	m := newMetrics(t)
	m.DeclareCommands("chat.send")
	m.DeclareErrorCodes("bad_request")
	m.CommandDeadLettered("chat.send", "bad_request")
	m.CommandDeadLettered("chat.dance", "made_up")
	reg := m.Registry()
	for _, tc := range []struct{ command, code string }{{"chat.send", "bad_request"}, {"other", "other"}} {
		labels := map[string]string{"command": tc.command, "code": tc.code}
		if v := value(t, reg, "lpbridge_commands_dead_lettered_total", labels); v != 1 {
			t.Errorf("dead letters %v = %v, want 1", labels, v)
		}
	}
	var nilMetrics *telemetry.Metrics
	nilMetrics.DeclareErrorCodes("x")
	nilMetrics.CommandDeadLettered("x", "y") // nil-safe
}
