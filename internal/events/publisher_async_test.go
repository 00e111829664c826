package events_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/telemetry/telemetrytest"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// chatLines are n chat.line events of chat, with seq from+1 on and ids
// unique to the chat and seq.
func chatLines(chat string, from, n int) []events.Event {
	line := events.Examples()[4]
	evs := make([]events.Event, n)
	for i := range evs {
		seq := from + i + 1
		evs[i] = line
		evs[i].ChatID = chat
		evs[i].Seq = int64(seq)
		evs[i].ID = fmt.Sprintf("%s-%d", chat, seq)
	}
	return evs
}

// stored decodes every event the stream holds, in stream order.
func stored(t *testing.T, st jetstream.Stream) []events.Event {
	t.Helper()
	ctx := testContext(t)
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []events.Event
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		raw, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("stream seq %d: %v", seq, err)
		}
		ce, err := events.Decode(&nats.Msg{Subject: raw.Subject, Header: raw.Header, Data: raw.Data})
		if err != nil {
			t.Fatalf("stream seq %d: %v", seq, err)
		}
		e, err := events.FromCloudEvent(ce)
		if err != nil {
			t.Fatalf("stream seq %d: %v", seq, err)
		}
		out = append(out, e)
	}
	return out
}

func ids(evs []events.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// Many chats publishing batches at once through one Publisher: the stream
// holds every event once, and each chat's in the order published.
func TestPublishKeepsTheOrderOfEachChat(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	st := ensureStream(t, js)
	p := newPublisher(t, js, events.PublisherConfig{Stream: events.DefaultStreamName})
	const chats, batches, perBatch = 6, 8, 25
	var wg sync.WaitGroup
	errs := make([]error, chats)
	for c := range chats {
		wg.Go(func() {
			chat := fmt.Sprintf("chat%d", c)
			for b := range batches {
				if err := p.Publish(ctx, chatLines(chat, b*perBatch, perBatch)...); err != nil {
					errs[c] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	all := stored(t, st)
	if len(all) != chats*batches*perBatch {
		t.Fatalf("stream holds %d events, want %d", len(all), chats*batches*perBatch)
	}
	last := map[string]int64{}
	for _, e := range all {
		if e.Seq != last[e.ChatID]+1 {
			t.Fatalf("chat %s: seq %d stored after %d", e.ChatID, e.Seq, last[e.ChatID])
		}
		last[e.ChatID] = e.Seq
	}
}

// logBuffer is a logger whose records the test reads.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// An event no stream takes in the middle of a batch: Publish names the
// first one that failed; the events after it, already on their way, are
// stored all the same, and that is counted and logged as an error.
func TestPublishReportsTheFirstFailedEvent(t *testing.T) {
	tests := []struct {
		name    string
		outside []int // indexes of the events no stream takes
		first   int
	}{
		{"middle", []int{2}, 2},
		{"first and middle", []int{0, 3}, 0},
		{"last", []int{4}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			_, _, js := natstest.RunServer(t)
			st, err := js.CreateStream(ctx, jetstream.StreamConfig{
				Name: events.DefaultStreamName, Subjects: []string{"lp.evt.*.helper_bot.>"}, Storage: jetstream.MemoryStorage,
			})
			if err != nil {
				t.Fatal(err)
			}
			m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics())
			logger, logs := logBuffer()
			p, err := events.NewPublisher(js, events.PublisherConfig{Metrics: m}, logger)
			if err != nil {
				t.Fatal(err)
			}
			evs := chatLines("chat1", 0, 5)
			for _, i := range tt.outside {
				evs[i].Agent = "nobody_bot"
			}

			err = p.Publish(ctx, evs...)
			var pe *events.PublishError
			if !errors.As(err, &pe) || !errors.Is(err, events.ErrPublish) {
				t.Fatalf("err = %v, want a PublishError", err)
			}
			if pe.Index != tt.first || pe.EventID != evs[tt.first].ID || pe.Subject != events.Subject("lp", evs[tt.first]) {
				t.Errorf("PublishError = %+v, want event #%d %q", pe, tt.first, evs[tt.first].ID)
			}
			if !errors.Is(err, jetstream.ErrNoStreamResponse) {
				t.Errorf("cause = %v, want jetstream.ErrNoStreamResponse", pe.Err)
			}

			var want []string // what JetStream took: every event no stream refused
			after := 0        // of them, those after the first failure
			for i, e := range evs {
				if e.Agent != "nobody_bot" {
					want = append(want, e.ID)
					if i > tt.first {
						after++
					}
				}
			}
			if got := ids(stored(t, st)); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("stream holds %q, want %q", got, want)
			}
			line := map[string]string{"type": string(events.ChatLine)}
			if got := telemetrytest.Value(t, m, "lpbridge_events_published_total", line); got != float64(tt.first) {
				t.Errorf("published = %v, want %d (the events before the failure)", got, tt.first)
			}
			if got := telemetrytest.Value(t, m, "lpbridge_events_publish_failures_total", line); got != 1 {
				t.Errorf("failures = %v, want 1", got)
			}
			if got := telemetrytest.Value(t, m, "lpbridge_events_stored_after_failure_total", nil); got != float64(after) {
				t.Errorf("stored after failure = %v, want %d", got, after)
			}
			if hasErr := strings.Contains(logs.String(), "level=ERROR"); hasErr != (after > 0) {
				t.Errorf("error logged = %v, want %v; logs:\n%s", hasErr, after > 0, logs)
			}
		})
	}
}

// Events of other chats stored after a failed one keep their chats in
// order: they are published again as duplicates, and nothing is counted
// or logged as out of order.
func TestPublishFailureInOneChatLeavesOthersInOrder(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: events.DefaultStreamName, Subjects: []string{"lp.evt.*.helper_bot.>"}, Storage: jetstream.MemoryStorage,
	}); err != nil {
		t.Fatal(err)
	}
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics())
	logger, logs := logBuffer()
	p, err := events.NewPublisher(js, events.PublisherConfig{Metrics: m}, logger)
	if err != nil {
		t.Fatal(err)
	}
	evs := append(chatLines("chat1", 0, 2), chatLines("chat2", 0, 3)...)
	evs[1].Agent = "nobody_bot" // chat1's last event: no stream takes it

	var pe *events.PublishError
	if err := p.Publish(ctx, evs...); !errors.As(err, &pe) || pe.Index != 1 {
		t.Fatalf("err = %v, want a PublishError at #1", err)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_events_stored_after_failure_total", nil); got != 0 {
		t.Errorf("stored after failure = %v, want 0: chat2's events follow no failed event of chat2", got)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("an error was logged:\n%s", logs)
	}
}

// A publish the client refuses at once (here: larger than the server's
// max payload) stops the batch: nothing after it is sent, so nothing can
// overtake it.
func TestPublishSendsNothingAfterARefusedEvent(t *testing.T) {
	ctx := testContext(t)
	s := natstest.StartServer(t, func(o *server.Options) { o.MaxPayload = 16 << 10 })
	_, js := natstest.Connect(t, s)
	st := ensureStream(t, js)
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics())
	p := newPublisher(t, js, events.PublisherConfig{Metrics: m})
	evs := chatLines("chat1", 0, 4)
	big := evs[1].Data.(events.LineData)
	big.Text = strings.Repeat("x", 32<<10)
	evs[1].Data = big

	err := p.Publish(ctx, evs...)
	var pe *events.PublishError
	if !errors.As(err, &pe) || pe.Index != 1 || pe.EventID != evs[1].ID {
		t.Fatalf("err = %v, want a PublishError for event #1", err)
	}
	if !errors.Is(err, nats.ErrMaxPayload) {
		t.Errorf("cause = %v, want nats.ErrMaxPayload", pe.Err)
	}
	if got := ids(stored(t, st)); len(got) != 1 || got[0] != evs[0].ID {
		t.Errorf("stream holds %q, want only %q", got, evs[0].ID)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_events_stored_after_failure_total", nil); got != 0 {
		t.Errorf("stored after failure = %v, want 0", got)
	}
}

// Duplicates anywhere in a batch are acknowledged, counted and succeed.
func TestPublishDuplicatesInABatchSucceed(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	st := ensureStream(t, js)
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics())
	p := newPublisher(t, js, events.PublisherConfig{Metrics: m, Stream: events.DefaultStreamName})
	evs := chatLines("chat1", 0, 4)
	if err := p.Publish(ctx, evs[1]); err != nil {
		t.Fatal(err)
	}
	// evs[1] again, and evs[3] twice in the same batch.
	if err := p.Publish(ctx, evs[0], evs[1], evs[2], evs[3], evs[3]); err != nil {
		t.Fatalf("duplicates must count as success: %v", err)
	}
	if got, want := ids(stored(t, st)), []string{evs[1].ID, evs[0].ID, evs[2].ID, evs[3].ID}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("stream holds %q, want %q", got, want)
	}
	line := map[string]string{"type": string(events.ChatLine)}
	if got := telemetrytest.Value(t, m, "lpbridge_events_published_total", line); got != 6 {
		t.Errorf("published = %v, want 6", got)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_events_duplicate_total", line); got != 2 {
		t.Errorf("duplicates = %v, want 2", got)
	}
}

// silentResponder makes a subject look like a stream that never answers:
// a core subscriber takes each publish (so the server does not answer "no
// responders") and replies nothing. It returns the messages it received.
func silentResponder(t *testing.T, nc *nats.Conn, subject string) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestPublishWithADoneContextSendsNothing(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	st := ensureStream(t, js)
	p := newPublisher(t, js, events.PublisherConfig{})
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	err := p.Publish(ctx, chatLines("chat1", 0, 3)...)
	var pe *events.PublishError
	if !errors.As(err, &pe) || pe.Index != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a PublishError for event #0 wrapping context.Canceled", err)
	}
	if got := stored(t, st); len(got) != 0 {
		t.Errorf("stream holds %d events, want 0", len(got))
	}
}

// The batch is sent before any ack is awaited; when no ack comes, ctx's
// deadline (or, without one, the JetStream handle's default timeout) ends
// the wait, and the error names the first event.
func TestPublishWaitsForAcksUntilTheContextEnds(t *testing.T) {
	s := natstest.StartServer(t)
	nc, js := natstest.Connect(t, s)
	short, err := jetstream.New(nc, jetstream.WithDefaultTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	sub := silentResponder(t, nc, "lp.evt.>") // no stream: nobody acks

	for _, tt := range []struct {
		name    string
		js      jetstream.JetStream
		timeout time.Duration // of ctx; 0: none
		want    error
	}{
		{"ctx deadline", js, 300 * time.Millisecond, context.DeadlineExceeded},
		{"default timeout", short, 0, context.DeadlineExceeded},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			p := newPublisher(t, tt.js, events.PublisherConfig{})
			evs := chatLines("chat-"+strings.ReplaceAll(tt.name, " ", "-"), 0, 3)
			start := time.Now()
			err := p.Publish(ctx, evs...)
			elapsed := time.Since(start)
			var pe *events.PublishError
			if !errors.As(err, &pe) || pe.Index != 0 || !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want a PublishError for event #0 wrapping %v", err, tt.want)
			}
			if elapsed > testTimeout/2 {
				t.Errorf("Publish took %s, want about 300ms", elapsed)
			}
			for i, e := range evs { // all three were sent before the wait
				msg, err := sub.NextMsg(testTimeout)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if got := msg.Header.Get(nats.MsgIdHdr); got != e.ID {
					t.Errorf("message %d = %q, want %q", i, got, e.ID)
				}
			}
		})
	}
}

// The busy time grows by the time Publish is in flight, and not while idle.
func TestPublishCountsBusyTime(t *testing.T) {
	_, nc, js := natstest.RunServer(t)
	silentResponder(t, nc, "lp.evt.>")
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics())
	p := newPublisher(t, js, events.PublisherConfig{Metrics: m})
	const wait = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(testContext(t), wait)
	defer cancel()
	start := time.Now()
	if err := p.Publish(ctx, chatLines("chat1", 0, 2)...); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	elapsed := time.Since(start)
	busy := telemetrytest.Value(t, m, "lpbridge_event_publish_busy_seconds_total", nil)
	// ctx's deadline started counting just before Publish did.
	if busy < wait.Seconds()/2 || busy > elapsed.Seconds() {
		t.Errorf("busy = %vs, want about %v, at most the %v Publish took", busy, wait.Seconds(), elapsed.Seconds())
	}
	time.Sleep(50 * time.Millisecond) // idle
	if again := telemetrytest.Value(t, m, "lpbridge_event_publish_busy_seconds_total", nil); again != busy {
		t.Errorf("busy grew while idle: %v → %v", busy, again)
	}
}

// reconnectingJS is a JetStream that drops and re-opens its connection
// right after the ack of the after-th async publish came in, as a NATS
// server restart or a network blip would between two events of a batch.
type reconnectingJS struct {
	jetstream.JetStream
	t     *testing.T
	after int
	sent  int
}

func (r *reconnectingJS) PublishMsgAsync(m *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	f, err := r.JetStream.PublishMsgAsync(m, opts...)
	r.sent++
	if err != nil || r.sent != r.after {
		return f, err
	}
	select { // not f.Ok(): it hands its ack out once, and Publish waits for it
	case <-r.PublishAsyncComplete():
	case <-time.After(testTimeout):
		r.t.Errorf("event %d: no ack", r.sent)
	}
	if err := r.Conn().ForceReconnect(); err != nil {
		r.t.Errorf("force reconnect: %v", err)
	}
	return f, nil
}

// Once the connection was lost or reconnected, Publish sends no more of
// the batch: an event lost with the old socket must not be overtaken by
// later ones sent on the new one. The rest, published again, completes the
// chat in order.
func TestPublishStopsWhenTheConnectionChanges(t *testing.T) {
	ctx := testContext(t)
	_, nc, js := natstest.RunServer(t)
	st := ensureStream(t, js)
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics())
	p := newPublisher(t, &reconnectingJS{JetStream: js, t: t, after: 3}, events.PublisherConfig{Metrics: m})
	evs := chatLines("chat1", 0, 6)

	err := p.Publish(ctx, evs...)
	var pe *events.PublishError
	if !errors.As(err, &pe) || pe.Index != 3 || !errors.Is(err, events.ErrConnectionChanged) {
		t.Fatalf("err = %v, want a PublishError for event #3 wrapping ErrConnectionChanged", err)
	}
	testwait.Until(t, testTimeout, func() error {
		if !nc.IsConnected() {
			return errors.New("not reconnected yet")
		}
		return nil
	})
	if got := ids(stored(t, st)); strings.Join(got, " ") != strings.Join(ids(evs[:3]), " ") {
		t.Errorf("stream holds %q, want the first three events only", got)
	}
	if err := newPublisher(t, js, events.PublisherConfig{}).Publish(ctx, evs[pe.Index:]...); err != nil {
		t.Fatal(err)
	}
	if got := ids(stored(t, st)); strings.Join(got, " ") != strings.Join(ids(evs), " ") {
		t.Errorf("stream holds %q, want %q", got, ids(evs))
	}
	if got := telemetrytest.Value(t, m, "lpbridge_events_stored_after_failure_total", nil); got != 0 {
		t.Errorf("stored after failure = %v, want 0", got)
	}
}
