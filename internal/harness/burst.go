package harness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
)

// The publish burst of issue 11 without the polling in front of it: every
// agent has BurstChats chats with BurstLines new lines each, and every
// agent publishes them at the same moment, one Publish call per agent, as
// the pollers do when one tick finds them all. Raw JetStream async publish
// of as many messages of the same size from one goroutine is its ceiling.
const (
	BurstChats = 5
	BurstLines = 5
	// rawInFlight bounds the raw publisher's unacknowledged messages, as a
	// tuned publisher would.
	rawInFlight = 1024
)

// Burst is one burst's events, batched per agent.
type Burst struct {
	batches [][]events.Event
	msgSize int // body and headers of one event's message, roughly
}

// NewBurst builds the burst of agents agents; its event ids begin after
// *seq, which it advances, so every burst is new to JetStream.
func NewBurst(agents int, seq *int) (*Burst, error) {
	line := events.Examples()[4]
	if line.Type != events.ChatLine {
		return nil, fmt.Errorf("harness: Examples()[4] is %s, want a chat.line", line.Type)
	}
	msg, err := events.Encode(line, events.Binary, events.DefaultDataSchemaBase)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	b := &Burst{batches: make([][]events.Event, agents), msgSize: len(msg.Data)}
	for k, vs := range msg.Header {
		for _, v := range vs {
			b.msgSize += len(k) + len(v) + len(": \r\n")
		}
	}
	for a := range b.batches {
		batch := make([]events.Event, 0, BurstChats*BurstLines)
		for i := range BurstChats * BurstLines {
			*seq++
			e := line
			e.Agent = fmt.Sprintf("bot-%d", a)
			e.ChatID = fmt.Sprintf("chat-%d-%d", a, i%BurstChats)
			e.ID = fmt.Sprintf("burst-%d", *seq)
			e.Seq = int64(*seq)
			batch = append(batch, e)
		}
		b.batches[a] = batch
	}
	return b, nil
}

// Events is the number of events in the burst.
func (b *Burst) Events() int { return len(b.batches) * BurstChats * BurstLines }

// Publish publishes the burst through p, every agent's batch in its own
// Publish call and all of them at once, and returns the time until the
// last one returned (every event acknowledged).
func (b *Burst) Publish(ctx context.Context, p *events.Publisher) (time.Duration, error) {
	errs := make([]error, len(b.batches))
	var wg sync.WaitGroup
	start := time.Now()
	for a, batch := range b.batches {
		wg.Go(func() { errs[a] = p.Publish(ctx, batch...) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, fmt.Errorf("harness: burst: %w", err)
	}
	return elapsed, nil
}

// PublishRaw publishes as many messages of the burst's size as it has
// events with raw JetStream async publish from one goroutine, to subjects
// prefix.0 … prefix.99 (a stream must capture them), and returns the time
// until the last ack.
func (b *Burst) PublishRaw(ctx context.Context, js jetstream.JetStream, prefix string) (time.Duration, error) {
	body := make([]byte, b.msgSize)
	msgs := make([]*nats.Msg, b.Events())
	for i := range msgs {
		msgs[i] = &nats.Msg{Subject: fmt.Sprintf("%s.%d", prefix, i%100), Data: body}
	}
	return publishAsync(ctx, js, msgs)
}

// RawEvents are a burst's events encoded as a Publisher encodes them (the
// same subjects, CloudEvents headers and expected stream), each with a
// Nats-Msg-Id of its own so that JetStream stores them again.
type RawEvents struct {
	msgs   []*nats.Msg
	stream string
}

// EncodeRaw encodes the burst's events for raw publishing.
func (b *Burst) EncodeRaw(p *events.Publisher) (*RawEvents, error) {
	cfg := p.Config()
	r := &RawEvents{msgs: make([]*nats.Msg, 0, b.Events()), stream: cfg.Stream}
	for _, batch := range b.batches {
		for _, e := range batch {
			m, err := events.Encode(e, cfg.Encoding, cfg.DataSchemaBase)
			if err != nil {
				return nil, fmt.Errorf("harness: raw events: %w", err)
			}
			m.Subject = events.Subject(cfg.Prefix, e)
			m.Header.Set(nats.MsgIdHdr, e.ID+"-raw")
			r.msgs = append(r.msgs, m)
		}
	}
	return r, nil
}

// Publish publishes the events with raw async publish from one goroutine
// and returns the time until the last ack: the ceiling for the bridge's
// messages, which the Publisher's own work (its encoding, the per-agent
// calls, awaiting each ack in order) is measured against.
func (r *RawEvents) Publish(ctx context.Context, js jetstream.JetStream) (time.Duration, error) {
	var opts []jetstream.PublishOpt
	if r.stream != "" {
		opts = append(opts, jetstream.WithExpectStream(r.stream))
	}
	return publishAsync(ctx, js, r.msgs, opts...)
}

// publishAsync publishes msgs with raw async publish from one goroutine,
// rawInFlight at most unacknowledged, and returns the time until the last
// ack.
func publishAsync(ctx context.Context, js jetstream.JetStream, msgs []*nats.Msg, opts ...jetstream.PublishOpt) (time.Duration, error) {
	raw, err := jetstream.New(js.Conn(), jetstream.WithPublishAsyncMaxPending(rawInFlight))
	if err != nil {
		return 0, fmt.Errorf("harness: raw publish: %w", err)
	}
	start := time.Now()
	for _, m := range msgs {
		if _, err := raw.PublishMsgAsync(m, opts...); err != nil {
			return 0, fmt.Errorf("harness: raw publish: %w", err)
		}
	}
	select {
	case <-raw.PublishAsyncComplete():
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return time.Since(start), nil
}

// BurstRate is what BurstRates measured, in events per second.
type BurstRate struct {
	Bridge    float64 // through the Publisher
	Raw       float64 // raw async publish of messages of the same size, no headers
	RawEvents float64 // raw async publish of the same events, encoded
}

// BurstRates measures, side by side on the server of js, rounds bursts of
// agents agents through the bridge's Publisher p, as many raw async
// publishes (to rawPrefix.0 … rawPrefix.99, which a stream must capture)
// and the same events published raw (RawEvents), alternating, and
// returns the median round of each.
func BurstRates(ctx context.Context, js jetstream.JetStream, p *events.Publisher, agents, rounds int, rawPrefix string) (BurstRate, error) {
	seq := 0
	var bridge, raw, rawEvents []float64
	for range rounds {
		b, err := NewBurst(agents, &seq)
		if err != nil {
			return BurstRate{}, err
		}
		d, err := b.Publish(ctx, p)
		if err != nil {
			return BurstRate{}, err
		}
		bridge = append(bridge, float64(b.Events())/d.Seconds())
		if d, err = b.PublishRaw(ctx, js, rawPrefix); err != nil {
			return BurstRate{}, err
		}
		raw = append(raw, float64(b.Events())/d.Seconds())
		re, err := b.EncodeRaw(p)
		if err != nil {
			return BurstRate{}, err
		}
		if d, err = re.Publish(ctx, js); err != nil {
			return BurstRate{}, err
		}
		rawEvents = append(rawEvents, float64(b.Events())/d.Seconds())
	}
	return BurstRate{Bridge: median(bridge), Raw: median(raw), RawEvents: median(rawEvents)}, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}
