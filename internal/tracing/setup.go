package tracing

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// InstrumentationName names the bridge's tracers (the instrumentation scope
// of its spans).
const InstrumentationName = "github.com/lpbridge/lpbridge"

// Tracer returns the bridge's tracer of tp; a nil tp gives a no-op tracer.
// Components call it on the TracerProvider of their config.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(InstrumentationName)
}

// Setup returns the TracerProvider cfg asks for and the function that
// flushes and stops it (call it at shutdown, with a deadline). With no
// Endpoint it is a no-op provider and shutdown does nothing. Otherwise spans
// are batched to the OTLP/HTTP collector at Endpoint, sampled at
// SampleRatio (parent-based: a continued trace keeps its caller's decision).
// The exporter also honours the standard OTEL_EXPORTER_OTLP_* variables it
// reads itself, e.g. OTEL_EXPORTER_OTLP_HEADERS for collector credentials.
// Setup does not dial: an unreachable collector shows up later as export
// errors, never as a failed start.
func Setup(ctx context.Context, cfg Config) (trace.TracerProvider, func(context.Context) error, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if !cfg.Enabled() {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	ep, err := parseEndpoint(cfg.Endpoint, cfg.Insecure)
	if err != nil { // checked by Validate
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(ep.host), otlptracehttp.WithURLPath(ep.path)}
	if ep.insecure {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := sdkresource.Merge(sdkresource.Default(),
		sdkresource.NewSchemaless(attribute.String("service.name", cfg.ServiceName)))
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: resource: %w", err)
	}
	if cfg.Logger != nil {
		logger := cfg.Logger.With("component", "tracing")
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			logger.Warn("tracing error", "err", err)
		}))
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)
	return tp, tp.Shutdown, nil
}
