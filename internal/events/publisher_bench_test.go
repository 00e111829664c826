package events_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/harness"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// BenchmarkPublish measures one Publish call of a batch of chat.line events
// (the poller publishes a chat's new events in one call) against an
// embedded server with the bridge's file stream. Every event has a new id,
// so JetStream stores each one (a duplicate would take a cheaper path).
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 5, 25} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			_, _, js := natstest.RunServer(b)
			ctx := context.Background()
			if _, err := events.EnsureStream(ctx, js, events.StreamConfig{}); err != nil {
				b.Fatal(err)
			}
			p, err := events.NewPublisher(js, events.PublisherConfig{Stream: events.DefaultStreamName}, nil)
			if err != nil {
				b.Fatal(err)
			}
			line := events.Examples()[4]
			batch := make([]events.Event, n)
			seq := 0
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					seq++
					batch[i] = line
					batch[i].ID = fmt.Sprintf("bench-%d", seq)
					batch[i].Seq = int64(seq)
				}
				if err := p.Publish(ctx, batch...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkBurst is the burst of issue 11 without the polling: 200 agents
// with 5 chats of 5 new lines each publish at once, each with one Publish
// call, as the pollers do when a tick finds them (harness.Burst). Each
// iteration also publishes as many messages of the same size with raw
// JetStream async publish from one goroutine (the scale bench's ceiling),
// so the two rates are measured side by side on one server; "ratio" is the
// bridge's rate over the raw rate. Then the same events go out raw, encoded
// with their headers and subjects (harness.RawEvents): "ratio-events"
// is the bridge's rate over that, what the Publisher's own work costs.
func BenchmarkBurst(b *testing.B) {
	const agents = 200
	_, _, js := natstest.RunServer(b)
	ctx := context.Background()
	if _, err := events.EnsureStream(ctx, js, events.StreamConfig{}); err != nil {
		b.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"}}); err != nil {
		b.Fatal(err)
	}
	p, err := events.NewPublisher(js, events.PublisherConfig{Stream: events.DefaultStreamName}, nil)
	if err != nil {
		b.Fatal(err)
	}
	seq := 0
	var bridgeTime, rawTime, rawEventsTime time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		burst, err := harness.NewBurst(agents, &seq)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		d, err := burst.Publish(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		bridgeTime += d
		// The raw sides time themselves; ns/op and allocs/op are the
		// bridge's burst alone (and the in-process server's work for it).
		b.StopTimer()
		if d, err = burst.PublishRaw(ctx, js, "raw"); err != nil {
			b.Fatal(err)
		}
		rawTime += d
		rawEvents, err := burst.EncodeRaw(p)
		if err != nil {
			b.Fatal(err)
		}
		if d, err = rawEvents.Publish(ctx, js); err != nil {
			b.Fatal(err)
		}
		rawEventsTime += d
		b.StartTimer()
	}
	n := float64(b.N * agents * harness.BurstChats * harness.BurstLines)
	b.ReportMetric(n/bridgeTime.Seconds(), "bridge-events/s")
	b.ReportMetric(n/rawTime.Seconds(), "raw-msgs/s")
	b.ReportMetric(rawTime.Seconds()/bridgeTime.Seconds(), "ratio")
	b.ReportMetric(n/rawEventsTime.Seconds(), "raw-events/s")
	b.ReportMetric(rawEventsTime.Seconds()/bridgeTime.Seconds(), "ratio-events")
}
