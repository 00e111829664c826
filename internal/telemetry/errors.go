package telemetry

import "errors"

// ErrStalled is returned by a StallCheck when no progress was recorded
// within its limit.
var ErrStalled = errors.New("telemetry: no progress")

// ErrCheckTimeout is reported for a readiness check that did not return
// within the Health's check timeout.
var ErrCheckTimeout = errors.New("telemetry: readiness check timed out")
