package telemetry

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric name.
const namespace = "lpbridge"

// Histogram buckets, in seconds. Functions rather than variables: the
// package holds no mutable state.

// lpRequestBuckets span a fast answer to lpchat's 30 s request timeout.
func lpRequestBuckets() []float64 { return []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30} }

// pollBuckets: one poll tick makes several requests and may wait on the
// account's request budget, so it runs longer than one request.
func pollBuckets() []float64 { return []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60} }

// publishBuckets: a JetStream ack normally takes milliseconds.
func publishBuckets() []float64 {
	return []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
}

// lagBuckets: events should be published within a poll interval or two
// (2 s each); minutes mean LivePerson or NATS is in trouble.
func lagBuckets() []float64 { return []float64{.25, .5, 1, 2, 5, 10, 30, 60, 120, 300, 600} }

// Metrics holds every collector of the bridge on its own registry. Its
// methods are safe for concurrent use, and a nil *Metrics ignores every
// call, so components can take an optional *Metrics.
type Metrics struct {
	reg *prometheus.Registry

	operations                             labelSet
	eventTypes, commands, errorCodes       *declaredSet
	retryReasons, loginResults, restarts   labelSet
	outcomes                               labelSet
	lpRequests, lpRetries, lpLogins        *prometheus.CounterVec
	lpDuration                             *prometheus.HistogramVec
	pollDuration, publishDuration          prometheus.Histogram
	eventsPublished, eventsDup, eventsFail *prometheus.CounterVec
	commandCount                           *prometheus.CounterVec
	deadLetters                            *prometheus.CounterVec
	sessionRestarts                        *prometheus.CounterVec
	agentsActive, chatsActive              prometheus.Gauge
	agentsFailed                           prometheus.Gauge
	cursorLag                              prometheus.Histogram
	decodeSkipped                          *prometheus.CounterVec
	storedAfterFailure                     prometheus.Counter
	publishBusy                            *busyClock
	jsOps                                  labelSet
	jsRetries                              *prometheus.CounterVec
}

// NewMetrics creates every collector and registers it, with the Go runtime
// and process collectors, on a new registry.
func NewMetrics(opts ...Option) *Metrics {
	var o metricsOptions
	for _, opt := range opts {
		opt(&o)
	}
	m := &Metrics{
		reg:          prometheus.NewRegistry(),
		operations:   newLabelSet(o.operations),
		eventTypes:   newDeclaredSet(o.eventTypes),
		commands:     newDeclaredSet(o.commands),
		errorCodes:   newDeclaredSet(nil),
		retryReasons: newLabelSet([]string{string(RetryRateLimited), string(RetryServerError), string(RetryNetwork)}),
		loginResults: newLabelSet([]string{string(LoginOK), string(LoginUnauthorized), string(LoginRateLimited), string(LoginBlocked), string(LoginError)}),
		restarts:     newLabelSet([]string{string(RestartAuthLost), string(RestartSessionLost), string(RestartError)}),
		outcomes:     newLabelSet([]string{string(CommandOK), string(CommandInvalid), string(CommandDuplicate), string(CommandError)}),
		publishBusy:  newBusyClock(o.clock()),
	}
	m.lpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "lp_requests_total",
		Help: "LivePerson HTTP requests (each attempt) by operation and status class; code=\"error\" when no response arrived.",
	}, []string{"operation", "code"})
	m.lpRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "lp_retries_total",
		Help: "LivePerson requests retried by the client's retry policy, by operation and reason.",
	}, []string{"operation", "reason"})
	m.lpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "lp_request_duration_seconds",
		Help:    "Time from sending a LivePerson request to receiving its response headers, by operation.",
		Buckets: lpRequestBuckets(),
	}, []string{"operation"})
	m.lpLogins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "lp_logins_total",
		Help: "LivePerson agent logins by result.",
	}, []string{"result"})
	m.sessionRestarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "agent_session_restarts_total",
		Help: "Agent sessions started again after being lost, by reason.",
	}, []string{"reason"})
	m.pollDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "poll_duration_seconds",
		Help:    "Time one poll tick of one agent takes, all its requests included.",
		Buckets: pollBuckets(),
	})
	m.eventsPublished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "events_published_total",
		Help: "Events acknowledged by JetStream, by CloudEvent type (duplicates included).",
	}, []string{"type"})
	m.eventsDup = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "events_duplicate_total",
		Help: "Published events JetStream dropped as duplicates of an earlier Nats-Msg-Id, by type.",
	}, []string{"type"})
	m.eventsFail = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "events_publish_failures_total",
		Help: "Event publishes that JetStream did not acknowledge, by type.",
	}, []string{"type"})
	m.publishDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "publish_duration_seconds",
		Help:    "Time from publishing an event to JetStream's acknowledgement.",
		Buckets: publishBuckets(),
	})
	m.commandCount = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "commands_total",
		Help: "Commands received, by command name and outcome.",
	}, []string{"command", "outcome"})
	m.deadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "commands_dead_lettered_total",
		Help: "Commands sent to the dead-letter subject (<prefix>.dlq.>), by command name and error code.",
	}, []string{"command", "code"})
	m.agentsActive = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "agents_active",
		Help: "Agents with a live agent session on this replica.",
	})
	m.chatsActive = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "chats_active",
		Help: "Chats being polled on this replica.",
	})
	m.cursorLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "cursor_lag_seconds",
		Help:    "Age of an event (the service's event time) when the cursor advanced past it.",
		Buckets: lagBuckets(),
	})
	m.decodeSkipped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "lp_decode_skipped_total",
		Help: "Values of LivePerson chat documents that did not decode and were left out, once per chat and field.",
	}, []string{"field"})
	m.agentsFailed = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "agents_failed",
		Help: "Agents whose login LivePerson refused for good (401 bad credentials, 451 blocked); not retried until a new configuration or a restart.",
	})
	m.reg.MustRegister(m.agentsFailed)
	m.storedAfterFailure = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "events_stored_after_failure_total",
		Help: "Events JetStream stored although an earlier event of the same publish failed: that chat's events may be out of order in the stream.",
	})
	jetStreamOps := []string{JetStreamCreate, JetStreamKV, JetStreamPublish}
	m.jsOps = newLabelSet(jetStreamOps)
	m.jsRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "jetstream_retries_total",
		Help: "JetStream requests tried again because JetStream could not answer (no leader, no responders, a timeout), by operation: create (a stream or bucket), kv (a cursor, lease or command result), publish (a command.result event).",
	}, []string{"op"})
	for _, op := range jetStreamOps {
		m.jsRetries.WithLabelValues(op) // every series from the start, at 0
	}
	m.reg.MustRegister(m.jsRetries)
	m.reg.MustRegister(m.storedAfterFailure, prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Name: "event_publish_busy_seconds_total",
		Help: "Time during which at least one event publish (encode, send, wait for every ack) was in flight; events published ÷ this is the publish rate while publishing.",
	}, m.publishBusy.seconds))
	m.reg.MustRegister(
		m.lpRequests, m.lpRetries, m.lpDuration, m.lpLogins, m.sessionRestarts,
		m.pollDuration, m.eventsPublished, m.eventsDup, m.eventsFail, m.publishDuration,
		m.commandCount, m.deadLetters, m.agentsActive, m.chatsActive, m.cursorLag, m.decodeSkipped,
	)
	if !o.noRuntime {
		m.reg.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
	}
	m.precreate()
	return m
}

// precreate makes the series of the small label sets exist at 0, so that
// rate() and alerts see them before the first increment.
func (m *Metrics) precreate() {
	for _, r := range m.loginResults.values() {
		m.lpLogins.WithLabelValues(r)
	}
	for _, r := range m.restarts.values() {
		m.sessionRestarts.WithLabelValues(r)
	}
	for _, t := range m.eventTypes.values() {
		m.eventsPublished.WithLabelValues(t)
		m.eventsDup.WithLabelValues(t)
		m.eventsFail.WithLabelValues(t)
	}
	for _, c := range m.commands.values() {
		for _, o := range m.outcomes.values() {
			m.commandCount.WithLabelValues(c, o)
		}
	}
}

// Registry is the registry holding every collector, for tests and for
// components that register collectors of their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:      m.reg,
		ErrorHandling: promhttp.ContinueOnError,
	}))
}

// ObserveLPRequest counts one LivePerson HTTP attempt and its latency. op is
// a name given to WithOperations (others count as "other"); code is the
// HTTP status, 0 when no response arrived.
func (m *Metrics) ObserveLPRequest(op string, code int, d time.Duration) {
	if m == nil {
		return
	}
	op = m.operations.norm(op)
	m.lpRequests.WithLabelValues(op, statusClass(code)).Inc()
	m.lpDuration.WithLabelValues(op).Observe(d.Seconds())
}

// LPRetry counts one retry of a LivePerson request.
func (m *Metrics) LPRetry(op string, reason RetryReason) {
	if m == nil {
		return
	}
	m.lpRetries.WithLabelValues(m.operations.norm(op), m.retryReasons.norm(string(reason))).Inc()
}

// LPRetryRequest is LPRetry of the operation op after an attempt that
// failed with status (0: no response; classified by RetryReasonFor). Its
// signature fits lpchat's retry hook.
func (m *Metrics) LPRetryRequest(op string, status int) {
	if m == nil {
		return
	}
	m.LPRetry(op, RetryReasonFor(status))
}

// LPLogin counts one login attempt by its result.
func (m *Metrics) LPLogin(result LoginResult) {
	if m == nil {
		return
	}
	m.lpLogins.WithLabelValues(m.loginResults.norm(string(result))).Inc()
}

// AgentSessionRestart counts an agent session started again after it was lost.
func (m *Metrics) AgentSessionRestart(reason RestartReason) {
	if m == nil {
		return
	}
	m.sessionRestarts.WithLabelValues(m.restarts.norm(string(reason))).Inc()
}

// ObservePoll records how long one poll tick of one agent took.
func (m *Metrics) ObservePoll(d time.Duration) {
	if m == nil {
		return
	}
	m.pollDuration.Observe(d.Seconds())
}

// EventPublished counts an event JetStream acknowledged, with the time the
// acknowledgement took; duplicate is the ack's Duplicate flag (the event
// had been published before, JetStream kept only the first).
func (m *Metrics) EventPublished(typ string, duplicate bool, d time.Duration) {
	if m == nil {
		return
	}
	typ = m.eventTypes.norm(typ)
	m.eventsPublished.WithLabelValues(typ).Inc()
	if duplicate {
		m.eventsDup.WithLabelValues(typ).Inc()
	}
	m.publishDuration.Observe(d.Seconds())
}

// EventPublishFailed counts a publish JetStream did not acknowledge.
func (m *Metrics) EventPublishFailed(typ string) {
	if m == nil {
		return
	}
	m.eventsFail.WithLabelValues(m.eventTypes.norm(typ)).Inc()
}

// PublishStarted marks a publish call in flight until the returned func is
// called, for the publish busy time (time with at least one publish in
// flight, concurrent calls counted once). Call the func exactly once.
func (m *Metrics) PublishStarted() (done func()) {
	if m == nil {
		return func() {}
	}
	return m.publishBusy.start()
}

// The op labels of JetStreamRetried.
const (
	JetStreamCreate  = "create"  // creating or updating a stream or KV bucket
	JetStreamKV      = "kv"      // reading or writing a KV key
	JetStreamPublish = "publish" // publishing an event
)

// JetStreamRetried counts one retry of a JetStream request of kind op
// (JetStreamCreate, JetStreamKV or JetStreamPublish; anything else is
// "other").
func (m *Metrics) JetStreamRetried(op string) {
	if m == nil {
		return
	}
	m.jsRetries.WithLabelValues(m.jsOps.norm(op)).Inc()
}

// EventsStoredAfterFailure counts n events JetStream stored although an
// earlier event of the same publish call failed.
func (m *Metrics) EventsStoredAfterFailure(n int) {
	if m == nil {
		return
	}
	m.storedAfterFailure.Add(float64(n))
}

// CommandHandled counts a command by name (those declared or given with
// WithCommands; anything else, e.g. a made-up subject token, is "other")
// and outcome.
func (m *Metrics) CommandHandled(command string, outcome CommandOutcome) {
	if m == nil {
		return
	}
	m.commandCount.WithLabelValues(m.commands.norm(command), m.outcomes.norm(string(outcome))).Inc()
}

// AddAgentsActive moves the active-agents gauge by delta: +1 when an agent
// session starts, -1 when it ends.
func (m *Metrics) AddAgentsActive(delta int) {
	if m == nil {
		return
	}
	m.agentsActive.Add(float64(delta))
}

// AddAgentsFailed moves the failed-agents gauge by delta: +1 when an
// agent's login is refused for good, -1 when that worker ends.
func (m *Metrics) AddAgentsFailed(delta int) {
	if m == nil {
		return
	}
	m.agentsFailed.Add(float64(delta))
}

// AddChatsActive moves the active-chats gauge by delta: +1 when a chat is
// accepted or found, -1 when it ends or leaves the agent.
func (m *Metrics) AddChatsActive(delta int) {
	if m == nil {
		return
	}
	m.chatsActive.Add(float64(delta))
}

// ObserveCursorLag records the age of the newest event a cursor advanced
// past: now minus the service's time of that event. A negative age (clock
// skew between LivePerson and us) counts as 0.
func (m *Metrics) ObserveCursorLag(d time.Duration) {
	if m == nil {
		return
	}
	m.cursorLag.Observe(max(d, 0).Seconds())
}

// LPDecodeSkipped counts a value of a chat document that did not decode and
// was left out; field names it (e.g. "info.startTime"), from lpchat's fixed
// set of field names, so the label stays small.
func (m *Metrics) LPDecodeSkipped(field string) {
	if m == nil {
		return
	}
	m.decodeSkipped.WithLabelValues(field).Inc()
}

// CommandDeadLettered counts a command sent to the dead-letter subject, by
// name and error code (both bounded by what the consumer declared; anything
// else is "other").
func (m *Metrics) CommandDeadLettered(command, code string) {
	if m == nil {
		return
	}
	m.deadLetters.WithLabelValues(m.commands.norm(command), m.errorCodes.norm(code)).Inc()
}
