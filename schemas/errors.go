package schemas

import "errors"

var (
	// ErrUnknownSchema means no schema exists for the event type or command.
	ErrUnknownSchema = errors.New("schemas: unknown schema")
	// ErrInvalid means a document does not match its schema (or is not JSON).
	ErrInvalid = errors.New("schemas: invalid document")
)
