// Package telemetry holds the bridge's operability parts: Prometheus metrics
// on a registry of their own, an http.RoundTripper that counts LivePerson
// requests, liveness and readiness checks, and the HTTP server exposing
// /metrics, /livez and /readyz.
//
// Every label value is bounded: operations, event types and commands are
// normalised against known sets (anything else is counted as "other"), and
// no label ever carries a chat id, an agent name or any other value that
// grows with traffic. The package knows nothing of NATS or of the other
// bridge packages; they call its small typed methods.
package telemetry
