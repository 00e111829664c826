package events_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
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
