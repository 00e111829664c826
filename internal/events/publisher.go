package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/tracing"
)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// Prefix of the event subjects. Default DefaultPrefix ("lp").
	Prefix string
	// Encoding of the events on NATS. Default Binary.
	Encoding Encoding
	// DataSchemaBase is the absolute URL under which the payload schemas are
	// published (dataschema = base + "/events/<suffix>.json").
	// Default DefaultDataSchemaBase.
	DataSchemaBase string
	// Stream, when set, makes JetStream reject an event that would not be
	// stored in this stream (expected-stream header). Optional.
	Stream string
	// Metrics counts published, duplicate and failed events by type and
	// times the acks; NewPublisher declares every type to it. Optional: nil
	// counts nothing.
	Metrics *telemetry.Metrics
}

func (c *PublisherConfig) setDefaults() {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Encoding == "" {
		c.Encoding = Binary
	}
	if c.DataSchemaBase == "" {
		c.DataSchemaBase = DefaultDataSchemaBase
	}
}

// Validate reports every problem of the config, joined.
func (c PublisherConfig) Validate() error {
	var errs []error
	if err := ValidatePrefix(c.Prefix); err != nil {
		errs = append(errs, err)
	}
	if !c.Encoding.Valid() {
		errs = append(errs, fmt.Errorf("encoding %q: must be %q or %q", c.Encoding, Binary, Structured))
	}
	if u, err := url.Parse(c.DataSchemaBase); err != nil || !u.IsAbs() {
		errs = append(errs, fmt.Errorf("data schema base %q: must be an absolute URL", c.DataSchemaBase))
	}
	return errors.Join(errs...)
}

// Publisher publishes events to JetStream, in order, one acknowledged
// message per event. It is safe for concurrent use; events of one Publish
// call keep their order.
type Publisher struct {
	js     jetstream.JetStream
	cfg    PublisherConfig
	logger *slog.Logger
}

// NewPublisher returns a Publisher; a nil logger discards logs.
func NewPublisher(js jetstream.JetStream, cfg PublisherConfig, logger *slog.Logger) (*Publisher, error) {
	if js == nil {
		return nil, fmt.Errorf("%w: publisher: nil JetStream", ErrInvalidConfig)
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: publisher: %w", ErrInvalidConfig, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// Every type gets its own series; telemetry keeps no copy of the list.
	cfg.Metrics.DeclareEventTypes(TypeNames()...)
	return &Publisher{js: js, cfg: cfg, logger: logger}, nil
}

// Config returns the publisher's config with defaults filled in.
func (p *Publisher) Config() PublisherConfig { return p.cfg }

// Publish publishes evs in order and returns once JetStream acknowledged
// each of them. A duplicate ack (the id was seen within the duplicate
// window) counts as success. Every event is encoded before the first is
// sent, so an invalid event publishes nothing. On failure it returns a
// *PublishError (errors.Is ErrPublish) naming the event; the events after it
// are not published.
//
// An event without a TraceParent gets the one of the span in ctx, if any
// (a poll tick, a command), as its traceparent extension.
func (p *Publisher) Publish(ctx context.Context, evs ...Event) error {
	return p.publish(ctx, "", evs)
}

// publish is Publish with msgIDSuffix appended to each Nats-Msg-Id.
func (p *Publisher) publish(ctx context.Context, msgIDSuffix string, evs []Event) error {
	msgs := make([]*nats.Msg, len(evs))
	traceParent := tracing.TraceParent(ctx)
	for i, e := range evs {
		if e.TraceParent == "" {
			e.TraceParent = traceParent
		}
		msg, err := Encode(e, p.cfg.Encoding, p.cfg.DataSchemaBase)
		if err != nil {
			p.cfg.Metrics.EventPublishFailed(string(e.Type))
			return &PublishError{Index: i, EventID: e.ID, Subject: Subject(p.cfg.Prefix, e), Err: err}
		}
		msg.Subject = Subject(p.cfg.Prefix, e)
		if msgIDSuffix != "" {
			msg.Header.Set(nats.MsgIdHdr, e.ID+msgIDSuffix)
		}
		msgs[i] = msg
	}
	var opts []jetstream.PublishOpt
	if p.cfg.Stream != "" {
		opts = append(opts, jetstream.WithExpectStream(p.cfg.Stream))
	}
	for i, msg := range msgs {
		start := time.Now()
		ack, err := p.js.PublishMsg(ctx, msg, opts...)
		if err != nil {
			p.cfg.Metrics.EventPublishFailed(string(evs[i].Type))
			p.logger.WarnContext(ctx, "event not published",
				"event_id", evs[i].ID, "subject", msg.Subject, "error", err)
			return &PublishError{Index: i, EventID: evs[i].ID, Subject: msg.Subject, Err: err}
		}
		p.cfg.Metrics.EventPublished(string(evs[i].Type), ack.Duplicate, time.Since(start))
		if ack.Duplicate {
			p.logger.DebugContext(ctx, "duplicate event dropped by JetStream",
				"event_id", evs[i].ID, "subject", msg.Subject, "stream", ack.Stream, "seq", ack.Sequence)
		}
	}
	return nil
}
