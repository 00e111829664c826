package tracing

import "errors"

// ErrInvalidConfig is returned by Setup for an unusable Config; the message
// names every problem.
var ErrInvalidConfig = errors.New("tracing: invalid config")
