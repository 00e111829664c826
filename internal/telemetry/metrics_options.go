package telemetry

import "time"

// Option extends the known label values of NewMetrics. Values outside the
// known sets are counted as "other", so a label can never grow without bound.
type Option func(*metricsOptions)

type metricsOptions struct {
	operations []string
	eventTypes []string
	commands   []string
	noRuntime  bool
	now        func() time.Time
}

// clock is the time source: WithClock's, or time.Now.
func (o metricsOptions) clock() func() time.Time {
	if o.now != nil {
		return o.now
	}
	return time.Now
}

// WithOperations adds values of the "operation" label: the names the
// opFromRequest of InstrumentTransport returns (the bridge passes
// lpchat's operation names). Without it every request counts as "other".
func WithOperations(names ...string) Option {
	return func(o *metricsOptions) { o.operations = append(o.operations, names...) }
}

// WithEventTypes adds known event types. The events package's Publisher
// declares its own (see DeclareEventTypes), so this is for tests and for
// metrics that no Publisher is given.
func WithEventTypes(types ...string) Option {
	return func(o *metricsOptions) { o.eventTypes = append(o.eventTypes, types...) }
}

// WithCommands adds known command names. The commands package's Consumer
// declares its own (see DeclareCommands), so this is for tests and for
// metrics that no Consumer is given.
func WithCommands(names ...string) Option {
	return func(o *metricsOptions) { o.commands = append(o.commands, names...) }
}

// WithoutRuntimeMetrics leaves the Go runtime and process collectors off the
// registry (benchmarks, tests that count series).
func WithoutRuntimeMetrics() Option {
	return func(o *metricsOptions) { o.noRuntime = true }
}

// WithClock sets the time source of the metrics that measure time
// themselves (the publish busy time), for tests. Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *metricsOptions) { o.now = now }
}
