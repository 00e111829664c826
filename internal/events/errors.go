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

	// ErrInvalidConfig means a PublisherConfig or StreamConfig is unusable.
	ErrInvalidConfig = errors.New("events: invalid config")
)

// PublishError says which event of a Publish call failed. Events before
// Index were acknowledged; the failed one and those after it were not
// published (the failed one may still have been stored if the ack was lost;
// publishing it again is safe because its id deduplicates it).
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
