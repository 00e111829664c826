package events_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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

// BenchmarkBurst is the burst of issue 11 without the polling: every agent
// has 5 chats with 5 new lines each and all of them publish at once, each
// with one Publish call, as the pollers do when a tick finds them. Each
// iteration also publishes the same number of messages of the same size
// with raw JetStream async publish from one goroutine (the scale bench's
// ceiling), so the two rates are measured side by side on one server and
// "ratio" is the bridge's rate over the raw rate.
func BenchmarkBurst(b *testing.B) {
	const agents, perAgent = 200, 25
	_, nc, js := natstest.RunServer(b)
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
	line := events.Examples()[4]
	sample, err := events.Encode(line, events.Binary, events.DefaultDataSchemaBase)
	if err != nil {
		b.Fatal(err)
	}
	rawSize := len(sample.Data) + headerSize(sample.Header)
	raw, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(1024))
	if err != nil {
		b.Fatal(err)
	}
	seq := 0
	var bridgeTime, rawTime time.Duration
	b.ReportAllocs()
	for b.Loop() {
		batches := make([][]events.Event, agents)
		for a := range batches {
			batches[a] = make([]events.Event, perAgent)
			for i := range batches[a] {
				seq++
				e := line
				e.Agent = fmt.Sprintf("bot-%d", a)
				e.ChatID = fmt.Sprintf("chat-%d-%d", a, i%5)
				e.ID = fmt.Sprintf("burst-%d", seq)
				e.Seq = int64(seq)
				batches[a][i] = e
			}
		}
		start := time.Now()
		errs := make([]error, agents)
		var wg sync.WaitGroup
		for a, batch := range batches {
			wg.Go(func() { errs[a] = p.Publish(ctx, batch...) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
		bridgeTime += time.Since(start)

		body := make([]byte, rawSize)
		start = time.Now()
		for i := range agents * perAgent {
			if _, err := raw.PublishAsync(fmt.Sprintf("raw.%d", i%100), body); err != nil {
				b.Fatal(err)
			}
		}
		<-raw.PublishAsyncComplete()
		rawTime += time.Since(start)
	}
	n := float64(b.N * agents * perAgent)
	b.ReportMetric(n/bridgeTime.Seconds(), "bridge-events/s")
	b.ReportMetric(n/rawTime.Seconds(), "raw-msgs/s")
	b.ReportMetric(rawTime.Seconds()/bridgeTime.Seconds(), "ratio")
}

// headerSize is the size of h on the wire, roughly: name, value, ": ", CRLF.
func headerSize(h nats.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}
