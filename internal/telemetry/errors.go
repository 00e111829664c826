package telemetry

import "errors"

// ErrCheckTimeout is reported for a readiness check that did not return
// within the Health's check timeout.
var ErrCheckTimeout = errors.New("telemetry: readiness check timed out")
