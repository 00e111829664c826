package events

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Event is one change to publish.
type Event struct {
	ID          string    // deterministic, from the service's own ids (see the IDFor* helpers); also the Nats-Msg-Id
	Type        Type      // one of AllTypes
	Account     string    // LivePerson account id
	Agent       string    // agent token (subject-safe login name)
	ChatID      string    // "" for agent-level events; required for chat events
	Seq         int64     // per-chat (or per-agent for agent events) order; CloudEvent extension "seq"
	Time        time.Time // the service's own time of the event
	Data        any       // the *Data struct of Type (value or non-nil pointer)
	TraceParent string    // W3C traceparent, optional
}

// Validate reports every problem that keeps e from being published, joined
// and wrapped in ErrInvalidEvent.
func (e Event) Validate() error {
	var errs []error
	if e.ID == "" {
		errs = append(errs, errors.New("id is empty"))
	}
	if !e.Type.Valid() {
		errs = append(errs, fmt.Errorf("unknown type %q", e.Type))
	}
	if e.Account == "" {
		errs = append(errs, errors.New("account is empty"))
	}
	if e.Agent == "" {
		errs = append(errs, errors.New("agent is empty"))
	}
	switch {
	case e.Type.IsChat() && e.ChatID == "":
		errs = append(errs, fmt.Errorf("chat id is empty for %s", e.Type))
	case e.Type.IsAgent() && e.ChatID != "":
		errs = append(errs, fmt.Errorf("chat id set on agent event %s", e.Type))
	}
	// The CloudEvents Integer type is 32-bit.
	if e.Seq < 0 || e.Seq > math.MaxInt32 {
		errs = append(errs, fmt.Errorf("seq %d out of range 0..%d", e.Seq, math.MaxInt32))
	}
	if e.Time.IsZero() {
		errs = append(errs, errors.New("time is zero"))
	}
	if e.Type.Valid() && !dataMatches(e.Type, e.Data) {
		errs = append(errs, fmt.Errorf("data %T does not belong to %s", e.Data, e.Type))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: event %q: %w", ErrInvalidEvent, e.ID, errors.Join(errs...))
}

// dataMatches reports whether d is the payload struct of t (value or
// non-nil pointer).
func dataMatches(t Type, d any) bool {
	def, ok := lookup(t)
	return ok && def.data.matches(d)
}

// DecodeData unmarshals the JSON payload of an event of type t into its
// *Data struct and returns it as a value (e.g. LineData, not *LineData).
func DecodeData(t Type, raw []byte) (any, error) {
	def, ok := lookup(t)
	if !ok {
		return nil, fmt.Errorf("%w: unknown type %q", ErrInvalidEvent, t)
	}
	return def.data.decode(raw)
}
