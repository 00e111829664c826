package telemetry_test

import (
	"slices"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// The event-type label set is a copy of events.AllTypes (telemetry imports
// none of the bridge's packages); a new event type must be added to both,
// or its events are counted under "other".
func TestDefaultEventTypesMatchEvents(t *testing.T) {
	var want []string
	for _, typ := range events.AllTypes() {
		want = append(want, string(typ))
	}
	got := telemetry.DefaultEventTypes()
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("telemetry.DefaultEventTypes() = %v, want events.AllTypes() %v", got, want)
	}
}
