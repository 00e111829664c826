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
	uris   *uriCache
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
	uris, err := newURICache(cfg.DataSchemaBase)
	if err != nil {
		return nil, fmt.Errorf("%w: publisher: data schema base: %w", ErrInvalidConfig, err)
	}
	// Every type gets its own series; telemetry keeps no copy of the list.
	cfg.Metrics.DeclareEventTypes(TypeNames()...)
	return &Publisher{js: js, cfg: cfg, uris: uris, logger: logger}, nil
}

// Config returns the publisher's config with defaults filled in.
func (p *Publisher) Config() PublisherConfig { return p.cfg }

// Publish publishes evs in order and returns once JetStream acknowledged
// each of them. A duplicate ack (the id was seen within the duplicate
// window) counts as success. Every event is encoded before the first is
// sent, so an invalid event publishes nothing. The events are sent without
// waiting for each ack (one round trip for the batch); see send for how
// that keeps their order. On failure it returns a *PublishError (errors.Is
// ErrPublish) naming the first event not acknowledged; it and the events
// after it are to be published again. Without a deadline in ctx, the wait
// for the acks is bounded by the JetStream handle's default timeout.
//
// An event without a TraceParent gets the one of the span in ctx, if any
// (a poll tick, a command), as its traceparent extension.
func (p *Publisher) Publish(ctx context.Context, evs ...Event) error {
	return p.publish(ctx, "", evs)
}

// publish is Publish with msgIDSuffix appended to each Nats-Msg-Id.
func (p *Publisher) publish(ctx context.Context, msgIDSuffix string, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	defer p.cfg.Metrics.PublishStarted()() // busy time: from here to the return
	msgs, err := p.encode(ctx, msgIDSuffix, evs)
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		// As the synchronous publish does: no wait for an ack is unbounded.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.js.Options().DefaultTimeout)
		defer cancel()
	}
	sent, stop := p.send(ctx, msgs)
	return p.await(ctx, evs, sent, stop)
}

// encode turns evs into messages; an invalid event fails the whole call
// before anything is sent.
func (p *Publisher) encode(ctx context.Context, msgIDSuffix string, evs []Event) ([]*nats.Msg, error) {
	msgs := make([]*nats.Msg, len(evs))
	traceParent := tracing.TraceParent(ctx)
	for i, e := range evs {
		if e.TraceParent == "" {
			e.TraceParent = traceParent
		}
		uris, err := p.uris.of(e)
		var msg *nats.Msg
		if err == nil {
			msg, err = encode(e, p.cfg.Encoding, uris)
		}
		if err != nil {
			p.cfg.Metrics.EventPublishFailed(string(e.Type))
			return nil, &PublishError{Index: i, EventID: e.ID, Subject: Subject(p.cfg.Prefix, e), Err: err}
		}
		msg.Subject = Subject(p.cfg.Prefix, e)
		if msgIDSuffix != "" {
			msg.Header.Set(nats.MsgIdHdr, e.ID+msgIDSuffix)
		}
		msgs[i] = msg
	}
	return msgs, nil
}

// inFlight is an event sent and not yet known to be acknowledged.
type inFlight struct {
	ack    jetstream.PubAckFuture
	sentAt time.Time
}

// sendStop says why send stopped before the end of the batch: the index of
// the first event not sent, and the cause. A zero cause: every event was sent.
type sendStop struct {
	index int
	err   error
}

// send publishes msgs asynchronously, in order, without waiting for acks:
// one round trip for the whole batch instead of one per event.
//
// Order: the events of one chat must be stored in the order of the batch
// (a chat's earlier batches are acknowledged before Publish returns, so
// only the order within a batch is at stake). One connection delivers its messages in
// order, and JetStream stores them in the order they arrive, so pipelining
// keeps the order as long as every event reaches the server on the same
// connection. It does not if an event is lost (a socket dying under it, a
// publish refused at once) while later ones are stored: the retry of the
// lost one would land after them. So send stops
//   - at the first publish the client refuses (no later event may overtake it);
//   - when the connection was lost or reconnected since the batch began: an
//     event written to the dead socket is gone, while those written after
//     the reconnect would be stored;
//   - when ctx is done.
//
// The library's own retry of a publish no stream answered (no responders)
// is off for the same reason: it would send the event again after the ones
// behind it. JetStream can still store an event sent after one that then
// fails (a lost ack, an error ack, the connection dropped between two
// checks); await counts and logs that, as it breaks the promise of order.
func (p *Publisher) send(ctx context.Context, msgs []*nats.Msg) ([]inFlight, sendStop) {
	opts := []jetstream.PublishOpt{jetstream.WithRetryAttempts(0)}
	if p.cfg.Stream != "" {
		opts = append(opts, jetstream.WithExpectStream(p.cfg.Stream))
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) > 0 {
		// Too many acks pending process-wide is back-pressure: wait for a
		// slot as long as the caller waits, not the library's 200 ms.
		opts = append(opts, jetstream.WithStallWait(time.Until(deadline)))
	}
	nc := p.js.Conn()
	began := epochOf(nc)
	sent := make([]inFlight, 0, len(msgs))
	for i, msg := range msgs {
		if err := ctx.Err(); err != nil {
			return sent, sendStop{index: i, err: err}
		}
		if i > 0 && epochOf(nc) != began {
			return sent, sendStop{index: i, err: ErrConnectionChanged}
		}
		ack, err := p.js.PublishMsgAsync(msg, opts...)
		if err != nil {
			return sent, sendStop{index: i, err: err}
		}
		sent = append(sent, inFlight{ack: ack, sentAt: time.Now()})
	}
	return sent, sendStop{index: len(msgs)}
}

// connEpoch is one stretch of a connection's life: how often it reconnected
// before, and whether it is connected. Events sent in one epoch reach the
// server in order, or the later ones are lost with the earlier.
type connEpoch struct {
	reconnects uint64
	connected  bool
}

func epochOf(nc *nats.Conn) connEpoch {
	return connEpoch{reconnects: nc.Stats().Reconnects, connected: nc.IsConnected()}
}

// await waits for the ack of every event sent, in order, and returns nil
// if each one was acknowledged (a duplicate ack included), or a
// *PublishError naming the first event that was not: one whose ack was an
// error or did not come, or the first one not sent.
func (p *Publisher) await(ctx context.Context, evs []Event, sent []inFlight, stop sendStop) error {
	failed, cause := stop.index, stop.err
	// Order is per chat (per agent for agent events): an event stored after
	// a failed one of its own chat is out of order; one of another chat is
	// only published again, as a duplicate.
	var failedChats map[orderScope]bool
	var storedAfter []int // events stored after a failed one of their chat
	for i, f := range sent {
		// Past ctx's end, outcome returns at once: the acks already in
		// still tell which later events were stored.
		ack, err := outcome(ctx, f.ack)
		scope := scopeOf(evs[i])
		switch {
		case err != nil:
			if i < failed {
				failed, cause = i, err
			}
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				break // not waited for: it may well be stored, in order
			}
			if failedChats == nil {
				failedChats = map[orderScope]bool{}
			}
			failedChats[scope] = true
		case failedChats[scope]:
			if !ack.Duplicate {
				storedAfter = append(storedAfter, i)
			}
		case i > failed:
			// Stored, but the caller publishes it again from failed.
		default:
			p.cfg.Metrics.EventPublished(string(evs[i].Type), ack.Duplicate, time.Since(f.sentAt))
			if ack.Duplicate {
				p.logger.DebugContext(ctx, "duplicate event dropped by JetStream",
					"event_id", evs[i].ID, "subject", f.ack.Msg().Subject, "stream", ack.Stream, "seq", ack.Sequence)
			}
		}
	}
	if cause == nil {
		return nil
	}
	e := evs[failed]
	subject := Subject(p.cfg.Prefix, e)
	p.cfg.Metrics.EventPublishFailed(string(e.Type))
	p.logger.WarnContext(ctx, "event not published",
		"event_id", e.ID, "subject", subject, "error", cause)
	if len(storedAfter) > 0 {
		p.cfg.Metrics.EventsStoredAfterFailure(len(storedAfter))
		ids := make([]string, len(storedAfter))
		for j, i := range storedAfter {
			ids[j] = evs[i].ID
		}
		p.logger.ErrorContext(ctx, "events stored after an earlier event of their chat failed: the chat's order in the stream may be broken",
			"failed_event_id", e.ID, "subject", subject, "stored_event_ids", ids)
	}
	return &PublishError{Index: failed, EventID: e.ID, Subject: subject, Err: cause}
}

// orderScope is what events keep their order within: a chat (its id is
// the account's), or an agent's own events.
type orderScope struct{ account, agent, chat string }

func scopeOf(e Event) orderScope {
	if e.ChatID != "" {
		return orderScope{account: e.Account, chat: e.ChatID}
	}
	return orderScope{account: e.Account, agent: e.Agent}
}

// outcome waits for f's ack or error, or for ctx's end (ctx.Err()); an
// outcome already in wins over a done ctx.
func outcome(ctx context.Context, f jetstream.PubAckFuture) (*jetstream.PubAck, error) {
	ok, failed := f.Ok(), f.Err()
	select {
	case ack := <-ok:
		return ack, nil
	case err := <-failed:
		return nil, err
	default:
	}
	select {
	case ack := <-ok:
		return ack, nil
	case err := <-failed:
		return nil, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
