package events

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidEvent means an event cannot be encoded or decoded: a missing
	// field, an unknown type, data of the wrong type, a bad header.
	ErrInvalidEvent = errors.New("events: invalid event")

	// ErrNotCloudEvent means a NATS message carries neither a structured
	// CloudEvent nor the ce-specversion header of binary mode.
	ErrNotCloudEvent = errors.New("events: not a CloudEvent")

	// ErrPublish means an event was not acknowledged by JetStream. It is
	// always carried by a *PublishError.
	ErrPublish = errors.New("events: publish failed")

	// ErrConnectionChanged means the NATS connection was lost or reconnected
	// while a Publish call sent its events, so it sent no more of them: an
	// event lost with the old connection must not be overtaken by later ones
	// sent on the new. Publishing the rest again is safe.
	ErrConnectionChanged = errors.New("events: NATS connection lost or reconnected during the publish")

	// ErrInvalidConfig means a PublisherConfig or StreamConfig is unusable.
	ErrInvalidConfig = errors.New("events: invalid config")
)

// PublishError says which event of a Publish call failed. Events before
// Index were acknowledged; the failed one and those after it are to be
// published again (the failed one may still have been stored if the ack was
// lost; publishing it again is safe because its id deduplicates it). Events
// after it that JetStream stored all the same (sent before the failure was
// known) are counted and logged, as they may stand before it in the stream.
//
// errors.Is(err, ErrPublish) holds, and errors.Is/As reach the cause.
type PublishError struct {
	Index   int    // position of the failed event in the Publish call
	EventID string // its id
	Subject string // its subject ("" if it could not be built)
	Err     error  // the cause
}

// Error names the event that failed and why.
func (e *PublishError) Error() string {
	return fmt.Sprintf("events: publish event %q (#%d) to %q: %v", e.EventID, e.Index, e.Subject, e.Err)
}

// Unwrap returns ErrPublish and the cause.
func (e *PublishError) Unwrap() []error {
	return []error{ErrPublish, e.Err}
}
