package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/harness"
)

const (
	// rawStream is the bench's own stream, apart from the bridge's LP_EVENTS.
	rawStream = "SCALEBENCH_RAW"
	// rawMessages is how many messages the raw publish sends: enough for a
	// rate stable to a few per cent, a second or two on this machine.
	rawMessages = 20000
	// rawPayload is about the size of a chat.line event's body and headers.
	rawPayload = 400
	// rawInFlight bounds unacknowledged async publishes, as a tuned
	// publisher would.
	rawInFlight = 1024
)

// rawPublishRate is what this NATS server acknowledges from one client
// publishing asynchronously to a one-subject file stream: the ceiling the
// bridge's own publishing is compared with.
func rawPublishRate(ctx context.Context, nc *nats.Conn) (float64, error) {
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(rawInFlight))
	if err != nil {
		return 0, fmt.Errorf("raw publish: %w", err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: rawStream, Subjects: []string{"scalebench.raw.>"}}); err != nil {
		return 0, fmt.Errorf("raw publish: stream: %w", err)
	}
	defer func() { _ = js.DeleteStream(context.WithoutCancel(ctx), rawStream) }()
	body := make([]byte, rawPayload)
	start := time.Now()
	for i := range rawMessages {
		if _, err := js.PublishAsync(fmt.Sprintf("scalebench.raw.%d", i%100), body); err != nil {
			return 0, fmt.Errorf("raw publish: %w", err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	elapsed := time.Since(start)
	info, err := js.Stream(ctx, rawStream)
	if err != nil {
		return 0, fmt.Errorf("raw publish: %w", err)
	}
	if n := info.CachedInfo().State.Msgs; n != rawMessages {
		return 0, fmt.Errorf("raw publish: stream holds %d messages, want %d", n, rawMessages)
	}
	return rawMessages / elapsed.Seconds(), nil
}

const (
	// burstStream and burstPrefix hold the publisher burst's events, apart
	// from the bridge's stream and its subscriber.
	burstStream = "SCALEBENCH_BURST"
	burstPrefix = "scalebench"
	// burstMaxAgents caps the publisher burst: 1000 agents are 25,000
	// events at once, more than any poll interval of this machine finds.
	burstMaxAgents = 1000
	// burstRounds is how many bursts each side publishes; the median counts.
	burstRounds = 3
)

// publisherBurst is the bridge's publish path at full speed: a burst of
// agents agents (harness.Burst) through an events.Publisher in this
// process, on the bench's server, alternating with as many raw async
// publishes and with the same events published raw.
func publisherBurst(ctx context.Context, nc *nats.Conn, agents int) (harness.BurstRate, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return harness.BurstRate{}, fmt.Errorf("publisher burst: %w", err)
	}
	if _, err := events.EnsureStream(ctx, js, events.StreamConfig{Name: burstStream, Prefix: burstPrefix}); err != nil {
		return harness.BurstRate{}, fmt.Errorf("publisher burst: %w", err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: rawStream, Subjects: []string{"scalebench.raw.>"}}); err != nil {
		return harness.BurstRate{}, fmt.Errorf("publisher burst: raw stream: %w", err)
	}
	defer func() {
		_ = js.DeleteStream(context.WithoutCancel(ctx), burstStream)
		_ = js.DeleteStream(context.WithoutCancel(ctx), rawStream)
	}()
	p, err := events.NewPublisher(js, events.PublisherConfig{Prefix: burstPrefix, Stream: burstStream}, nil)
	if err != nil {
		return harness.BurstRate{}, fmt.Errorf("publisher burst: %w", err)
	}
	return harness.BurstRates(ctx, js, p, min(agents, burstMaxAgents), burstRounds, "scalebench.raw")
}
