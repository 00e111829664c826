package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.opentelemetry.io/otel/trace"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/jsretry"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/tracing"
)

// SessionSource finds the agent session that owns an agent. The bridge maps
// an agent token to its poller worker's Session().
type SessionSource interface {
	// Session returns the agent session of the agent with this token.
	// known is false when the bridge does not run that agent (the command
	// fails with unknown_agent); a known agent without a session right now
	// (not started yet, being re-created) returns (nil, true), and the
	// command fails with session_lost, which is transient.
	Session(account, agentToken string) (sess *lpchat.AgentSession, known bool)
}

// AgentNotifier, when the SessionSource implements it too, hears of the
// commands that change what an agent's poller watches: the poller then
// reports a status change with cause "command" (not later as "service"), and
// tracks an accepted chat at once.
type AgentNotifier interface {
	// SetAvailability sets the agent's availability through its poller.
	SetAvailability(ctx context.Context, account, agentToken string, a lpchat.Availability) (lpchat.AgentStatus, error)
	// Accepted tells the poller the agent took chatID.
	Accepted(account, agentToken, chatID string)
	// Resync has the poller publish what the stream lacks of chatID
	// (chat.resync): how many events it published and found present.
	Resync(ctx context.Context, account, agentToken, chatID string) (published, present int, err error)
}

// Publisher publishes command.result events (*events.Publisher is one).
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Event) error
}

// Validator checks a command body against its JSON Schema
// (*schemas.Set is one).
type Validator interface {
	ValidateCommand(name string, body []byte) error
}

// Consumer reads commands from NATS and runs them on the agent sessions.
type Consumer struct {
	cfg        Config
	nc         *nats.Conn
	js         jetstream.JetStream
	sessions   SessionSource
	pub        Publisher
	validator  Validator
	logger     *slog.Logger
	decodeOpts DecodeOptions
	handlers   map[string]handler
	subjects   subjects
	pipes      pipelines
	owner      string // this consumer's id in result claims
	tracer     trace.Tracer

	results *results
	dead    *deadLetters
	flights flights
	lanes   lanes

	ready   chan struct{}
	started sync.Once
}

// New checks its arguments and returns a Consumer; Run starts it.
func New(cfg Config, nc *nats.Conn, js jetstream.JetStream, sessions SessionSource, pub Publisher, validator Validator, logger *slog.Logger) (*Consumer, error) {
	cfg.setDefaults()
	err := cfg.Validate()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for name, missing := range map[string]bool{
		"nats connection": nc == nil, "jetstream": js == nil, "session source": sessions == nil,
		"publisher": pub == nil, "validator": validator == nil,
	} {
		if missing {
			errs = append(errs, fmt.Errorf("%w: %s is required", ErrInvalidConfig, name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("commands: invalid config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg.Metrics.DeclareCommands(Names()...)
	cfg.Metrics.DeclareErrorCodes(codeNames()...)
	c := &Consumer{
		cfg: cfg, nc: nc, js: js, sessions: sessions, pub: pub, validator: validator,
		logger:     logger.With("component", "commands"),
		decodeOpts: DecodeOptions{Prefix: cfg.Prefix, Account: cfg.Account, MaxBodyBytes: cfg.MaxBodyBytes},
		handlers:   dispatch(),
		owner:      nuid.Next(),
		tracer:     tracing.Tracer(cfg.Tracer),
		dead:       &deadLetters{js: js, subjects: cfg.subjects()},
		lanes:      lanes{max: cfg.MaxQueuedPerAgent},
		subjects:   cfg.subjects(),
		ready:      make(chan struct{}),
	}
	c.pipes = c.newPipelines()
	return c, nil
}

// Config returns the configuration in use, defaults filled in.
func (c *Consumer) Config() Config { return c.cfg }

// Ready is closed once the consumer takes commands.
func (c *Consumer) Ready() <-chan struct{} { return c.ready }

// Run takes commands until ctx is done; then it stops taking commands,
// finishes the ones being run and returns nil. It returns an error when it
// cannot start (bucket, streams, subscriptions). A Consumer runs once.
func (c *Consumer) Run(ctx context.Context) error {
	err := errors.New("commands: consumer already ran")
	c.started.Do(func() { err = c.run(ctx) })
	return err
}

func (c *Consumer) run(ctx context.Context) error {
	// On a NATS cluster that is still electing leaders these wait (see
	// jsretry) instead of stopping the consumer for good.
	var res *results
	err := jsretry.Do(ctx, c.retries(), telemetry.JetStreamCreate, "create KV bucket "+c.cfg.ResultsBucket, func(ctx context.Context) error {
		var err error
		res, err = openResults(ctx, c.js, c.cfg, c.owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("commands: %w", err)
	}
	c.results = res
	if err := jsretry.Do(ctx, c.retries(), telemetry.JetStreamCreate, "create stream "+c.cfg.DLQStreamName, func(ctx context.Context) error {
		return ensureDeadLetterStream(ctx, c.js, c.cfg)
	}); err != nil {
		return fmt.Errorf("commands: %w", err)
	}
	subs, follow, err := c.subscribe(ctx)
	if err != nil {
		return fmt.Errorf("commands: %w", err)
	}
	var d *durable
	if c.cfg.Durable {
		if d, err = c.startDurable(ctx); err != nil {
			for _, s := range subs() {
				_ = s.Unsubscribe()
			}
			return fmt.Errorf("commands: %w", err)
		}
	}
	close(c.ready)
	c.logger.Info("taking commands", "account", c.cfg.Account, "requests", c.subjects.wildcard(kindRequest, ""),
		"routed", c.ownership() != nil, "durable", c.cfg.Durable, "stream", c.cfg.StreamName)

	follow(ctx)
	c.logger.Info("stopping: finishing commands being run")
	c.drain(subs()...)
	c.lanes.wait()
	if d != nil {
		if err := d.stop(); err != nil {
			c.logger.Warn("durable commands stopped uncleanly", "err", err)
		}
	}
	return nil
}

// subscribe subscribes to the request-reply commands: routed by ownership
// when the SessionSource is an OwnershipSource, else to every agent. follow
// keeps the subscriptions up to date until ctx ends; subs then lists them.
func (c *Consumer) subscribe(ctx context.Context) (subs func() []*nats.Subscription, follow func(context.Context), err error) {
	if own := c.ownership(); own != nil {
		r, err := c.startRoutes(ctx, own)
		if err != nil {
			return nil, nil, err
		}
		return r.all, r.follow, nil
	}
	sub, err := c.subscribeRequests(ctx)
	if err != nil {
		return nil, nil, err
	}
	return func() []*nats.Subscription { return []*nats.Subscription{sub} },
		func(ctx context.Context) { <-ctx.Done() }, nil
}

// ownership is the SessionSource as an OwnershipSource, or nil.
func (c *Consumer) ownership() OwnershipSource {
	o, _ := c.sessions.(OwnershipSource)
	return o
}

// retries is where the consumer's JetStream retries are told: its log and
// its metrics.
func (c *Consumer) retries() jsretry.Reporter {
	return jsretry.Reporter{Logger: c.logger, Metrics: c.cfg.Metrics}
}
