package lpchat

import (
	"encoding/json"
	"net/http"
)

// ChatGone reports whether err is the service's answer that a chat is no
// longer this agent's to read (transferred, requeued, taken over by another
// agent, or purged): 403, 404 or 410 on a chat resource (chat-agent-api.md
// §5.11-5.13). A 400 on a single chat counts too: the request names nothing
// but the chat, which the service itself handed out, so the service refuses
// that chat, and asking again cannot help (§9: a 4xx is not retried). On the
// multi-chat request (§5.12) these statuses only say that one of the chats
// is gone; read them one by one to find which. Errors the client made up
// without asking the service (an empty chat id) are not a gone chat.
func ChatGone(err error) bool {
	return GoneStatus(err) != 0
}

// GoneStatus is the HTTP status that made err a gone chat (see ChatGone),
// or 0 when err is not one.
func GoneStatus(err error) int {
	e, ok := asAPIError(err)
	if !ok {
		return 0
	}
	switch e.Status {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		return e.Status
	}
	return 0
}

// Skipped is a value of a chat document that did not decode and was left
// out, so that one odd value costs that value and not the whole document
// (DESIGN.md §4.6): a time in an unknown format, an object where a string
// was expected, an event without an id.
type Skipped struct {
	Field  string // where, e.g. "info.startTime", "event.time", "event.id"
	Reason string // why it did not decode; never the value of a text field
}

// skips collects the Skipped values of one document.
type skips []Skipped

// note records err (if any) for field.
func (s *skips) note(field string, err error) {
	if err != nil {
		*s = append(*s, Skipped{Field: field, Reason: err.Error()})
	}
}

// soft decodes a value with its flex type P and never fails: a value that
// does not decode stays zero and keeps its error in Err for the report.
type soft[T any, P interface {
	*T
	json.Unmarshaler
}] struct {
	V   T
	Err error
}

// UnmarshalJSON decodes b with P; a failure is kept, not returned.
func (s *soft[T, P]) UnmarshalJSON(b []byte) error {
	// Straight into s.V: a local would escape to the heap on every value.
	if err := P(&s.V).UnmarshalJSON(b); err != nil {
		var zero T
		s.V, s.Err = zero, err
		return nil
	}
	s.Err = nil
	return nil
}

// Tolerant scalars of the chat documents.
type (
	softString = soft[flexString, *flexString]
	softInt    = soft[flexInt, *flexInt]
	softTime   = soft[flexTime, *flexTime]
)
