package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
