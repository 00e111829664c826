package commands

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// Defaults of Config.
const (
	// DefaultPrefix is the first token of every subject (DESIGN.md §2): the
	// events' prefix, so that commands and events share one namespace.
	DefaultPrefix = events.DefaultPrefix
	// DefaultStreamName captures durable commands (<prefix>.dcmd.>).
	DefaultStreamName = "LP_COMMANDS"
	// DefaultDLQStreamName keeps dead letters (<prefix>.dlq.>) for inspection.
	DefaultDLQStreamName = "LP_COMMANDS_DLQ"
	// DefaultResultsBucket keeps command results for deduplication.
	DefaultResultsBucket = "LP_COMMAND_RESULTS"
	// DefaultResultTTL is how long a command id is remembered: a day covers
	// any client retry loop and any outage of the bridge worth riding out.
	DefaultResultTTL = 24 * time.Hour
	// DefaultMaxBodyBytes bounds a command body; commands are small, and a
	// bound keeps one bad publisher from costing memory and CPU.
	DefaultMaxBodyBytes = 64 << 10
	// DefaultMaxDeliver is how often a durable command is tried before it is
	// dead-lettered: with DefaultBackoff, over about 6.5 minutes, so a
	// command outlives its agent's first re-login wait (2 minutes,
	// chat-agent-api.md §9) after an outage.
	DefaultMaxDeliver = 6
	// DefaultTimeout bounds one run of a command. lpchat's own retries of a
	// 5xx wait 5+10+15 s (chat-agent-api.md §9), so less would cut them off.
	DefaultTimeout = 45 * time.Second
	// DefaultQueueGroup lets several bridge replicas share request-reply commands.
	DefaultQueueGroup = "lpbridge"
	// DefaultStreamMaxAge is how long an undelivered durable command waits
	// for a bridge before JetStream drops it.
	DefaultStreamMaxAge = 24 * time.Hour
	// DefaultClockSkew is how far the service's clock may lag ours when a
	// send that failed ambiguously is looked for among the chat's events.
	DefaultClockSkew = 2 * time.Second
	// DefaultAmbiguityWindow is how long after a send failed ambiguously it
	// is not posted again: the service may still be storing it (a request
	// held longer than lpchat's 30 s HTTP timeout is extraordinary).
	DefaultAmbiguityWindow = 30 * time.Second
	// DefaultMaxQueuedPerAgent bounds the commands waiting for one agent;
	// beyond it requests are refused with rate_limited.
	DefaultMaxQueuedPerAgent = 256
	// DefaultOwnershipCheck is how often agent ownership is re-checked: a
	// replica that took an agent over takes its commands within this, short
	// next to the lease TTL, and a check is a few atomic loads.
	DefaultOwnershipCheck = 250 * time.Millisecond
)

// DefaultBackoff is the wait before each redelivery of a durable command
// that failed transiently; the last value repeats. Its tail follows the
// service's outer recovery loop (2, then 4 minutes, chat-agent-api.md §9).
func DefaultBackoff() []time.Duration {
	return []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 4 * time.Minute}
}

// Config of a Consumer. Zero values get the defaults in brackets.
type Config struct {
	// Account is the LivePerson account whose commands this consumer runs (required).
	Account string
	// Prefix is the first token of every subject [lp].
	Prefix string
	// Durable also consumes <prefix>.dcmd.<account>.> through the stream
	// StreamName: commands wait there while no bridge runs [false].
	Durable bool
	// StreamName is the JetStream stream capturing durable commands [LP_COMMANDS].
	StreamName string
	// StreamMaxAge is how long an undelivered durable command is kept [24h].
	StreamMaxAge time.Duration
	// DLQStreamName is the stream capturing dead letters [LP_COMMANDS_DLQ].
	DLQStreamName string
	// Replicas of the streams and the results bucket [1].
	Replicas int
	// ResultsBucket is the KV bucket of command results [LP_COMMAND_RESULTS].
	ResultsBucket string
	// ResultTTL is how long a command id is remembered [24h].
	ResultTTL time.Duration
	// MaxBodyBytes bounds a command body [65536].
	MaxBodyBytes int
	// MaxDeliver is how often a durable command is tried [6].
	MaxDeliver int
	// Backoff is the wait before each redelivery; the last value repeats [1s,5s,30s,2m,4m].
	Backoff []time.Duration
	// Timeout bounds one run of a command [45s].
	Timeout time.Duration
	// QueueGroup of the request-reply subscription [lpbridge].
	QueueGroup string
	// ClockSkew is how far the service's clock may lag when an ambiguous
	// send is looked for in the chat [2s].
	ClockSkew time.Duration
	// AmbiguityWindow: after a chat.send failed ambiguously, retries within
	// this long only look for the line and never post it again [30s].
	AmbiguityWindow time.Duration
	// MaxQueuedPerAgent bounds the request-reply commands waiting for one agent [256].
	MaxQueuedPerAgent int
	// OwnershipCheck is how often the consumer re-checks which agents this
	// replica owns, when the SessionSource is an OwnershipSource [250ms].
	OwnershipCheck time.Duration
	// Storage of the streams and bucket [jetstream.FileStorage].
	Storage jetstream.StorageType
	// Metrics counts commands by name and outcome [nil = none].
	Metrics *telemetry.Metrics
	// Tracer traces every command as a span "lpbridge.command <name>",
	// continuing the trace of a traceparent the command carries; the reply
	// and the command.result event carry the span's traceparent
	// [nil = no spans; a caller's traceparent is still passed through].
	Tracer trace.TracerProvider
}

func (c *Config) setDefaults() {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.StreamName == "" {
		c.StreamName = DefaultStreamName
	}
	if c.StreamMaxAge == 0 {
		c.StreamMaxAge = DefaultStreamMaxAge
	}
	if c.DLQStreamName == "" {
		c.DLQStreamName = DefaultDLQStreamName
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.ResultsBucket == "" {
		c.ResultsBucket = DefaultResultsBucket
	}
	if c.ResultTTL == 0 {
		c.ResultTTL = DefaultResultTTL
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if len(c.Backoff) == 0 {
		c.Backoff = DefaultBackoff()
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.QueueGroup == "" {
		c.QueueGroup = DefaultQueueGroup
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.MaxQueuedPerAgent == 0 {
		c.MaxQueuedPerAgent = DefaultMaxQueuedPerAgent
	}
	if c.AmbiguityWindow == 0 {
		c.AmbiguityWindow = DefaultAmbiguityWindow
	}
	if c.OwnershipCheck == 0 {
		c.OwnershipCheck = DefaultOwnershipCheck
	}
}

// Validate joins every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Account == "" {
		errs = append(errs, errors.New("account is required"))
	} else if !validToken(c.Account) {
		errs = append(errs, fmt.Errorf("account %q is not a subject token", c.Account))
	}
	for _, p := range strings.Split(c.Prefix, ".") {
		if !validToken(p) {
			errs = append(errs, fmt.Errorf("prefix %q is not a subject prefix", c.Prefix))
			break
		}
	}
	for name, v := range map[string]string{"StreamName": c.StreamName, "DLQStreamName": c.DLQStreamName, "ResultsBucket": c.ResultsBucket} {
		if !validName(v) {
			errs = append(errs, fmt.Errorf("%s %q: want letters, digits, '-' or '_'", name, v))
		}
	}
	if c.StreamName == c.DLQStreamName {
		errs = append(errs, errors.New("streamName and DLQStreamName must differ"))
	}
	if c.ResultTTL < time.Second {
		errs = append(errs, errors.New("resultTTL must be at least 1s"))
	}
	if c.StreamMaxAge < 0 {
		errs = append(errs, errors.New("streamMaxAge must not be negative"))
	}
	if c.MaxBodyBytes < 2 {
		errs = append(errs, errors.New("maxBodyBytes must be at least 2"))
	}
	if c.MaxDeliver < 1 {
		errs = append(errs, errors.New("maxDeliver must be at least 1"))
	}
	for i, b := range c.Backoff {
		if b <= 0 {
			errs = append(errs, fmt.Errorf("backoff[%d] must be positive", i))
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout must be positive"))
	}
	if c.AmbiguityWindow < 0 {
		errs = append(errs, errors.New("ambiguityWindow must not be negative"))
	}
	if c.ClockSkew < 0 {
		errs = append(errs, errors.New("clockSkew must not be negative"))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, errors.New("replicas must be 1..5"))
	}
	if c.OwnershipCheck < 0 {
		errs = append(errs, errors.New("ownershipCheck must not be negative"))
	}
	if c.MaxQueuedPerAgent < 1 {
		errs = append(errs, errors.New("maxQueuedPerAgent must be at least 1"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

// backoff is the wait before redelivery after the given delivery (1-based).
func (c Config) backoff(delivery uint64) time.Duration {
	i := int(min(delivery, uint64(len(c.Backoff)))) - 1
	return c.Backoff[max(i, 0)]
}

// subjects is the subject grammar of the account's commands.
func (c Config) subjects() subjects { return subjects{prefix: c.Prefix, account: c.Account} }

// lease is how long a claim on a command id holds before another run may
// take it over: a run cannot last longer than Timeout.
func (c Config) lease() time.Duration { return c.Timeout + leaseMargin }

// leaseMargin covers the KV writes around a run.
const leaseMargin = 10 * time.Second

// validToken reports whether s may be one token of a NATS subject.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r == '.' || r == '*' || r == '>' || r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// validName reports whether s is usable as a stream or bucket name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !nameRune(r) {
			return false
		}
	}
	return true
}

// nameRune reports whether r may appear in a stream, bucket or consumer name.
func nameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}
