// Package tracing sets up OpenTelemetry tracing for the bridge and carries
// W3C trace context (traceparent) in and out of it.
//
// Setup returns a trace.TracerProvider that components take in their
// configs (nil there means no tracing); with no endpoint configured it is a
// no-op provider, so tracing costs nothing unless it is asked for. Spans go
// to an OpenTelemetry collector over OTLP/HTTP. Nothing here touches otel's
// global provider or propagator: the W3C TraceContext propagator is used
// directly, by TraceParent and ContextWithParent.
package tracing
