package events_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/testwait"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const testTimeout = 10 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func newPublisher(t *testing.T, js jetstream.JetStream, cfg events.PublisherConfig) *events.Publisher {
	t.Helper()
	p, err := events.NewPublisher(js, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ensureStream(t *testing.T, js jetstream.JetStream) jetstream.Stream {
	t.Helper()
	st, err := events.EnsureStream(testContext(t), js, events.StreamConfig{Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestEnsureStreamCreatesAndUpdates(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	st, err := events.EnsureStream(ctx, js, events.StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if cfg.Name != "LP_EVENTS" || len(cfg.Subjects) != 1 || cfg.Subjects[0] != "lp.evt.>" ||
		cfg.Duplicates != events.DefaultDuplicateWindow || cfg.MaxAge != events.DefaultMaxAge || cfg.Storage != jetstream.FileStorage {
		t.Errorf("stream config = %+v", cfg)
	}
	st, err = events.EnsureStream(ctx, js, events.StreamConfig{MaxAge: time.Hour, DuplicateWindow: 5 * time.Minute})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if cfg := st.CachedInfo().Config; cfg.MaxAge != time.Hour || cfg.Duplicates != 5*time.Minute {
		t.Errorf("updated config = %+v", cfg)
	}
	_, err = events.EnsureStream(ctx, js, events.StreamConfig{Prefix: "a.*", MaxAge: time.Minute, DuplicateWindow: time.Hour})
	if !errors.Is(err, events.ErrInvalidConfig) {
		t.Errorf("bad config: err = %v, want ErrInvalidConfig", err)
	}
}

func TestPublishDelivers(t *testing.T) {
	for _, enc := range []events.Encoding{events.Binary, events.Structured} {
		t.Run(string(enc), func(t *testing.T) {
			ctx := testContext(t)
			_, nc, js := natstest.RunServer(t)
			st := ensureStream(t, js)
			sub, err := nc.SubscribeSync("lp.evt.>")
			if err != nil {
				t.Fatal(err)
			}
			p := newPublisher(t, js, events.PublisherConfig{Encoding: enc, Stream: "LP_EVENTS"})
			evs := events.Examples()
			// A value with spaces and unicode must survive the headers.
			evs[4].ChatID = "chat één 😀"
			if err := p.Publish(ctx, evs...); err != nil {
				t.Fatal(err)
			}
			for i, want := range evs {
				msg, err := sub.NextMsg(testTimeout)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if wantSubj := events.Subject("lp", want); msg.Subject != wantSubj {
					t.Errorf("message %d subject = %q, want %q", i, msg.Subject, wantSubj)
				}
				if got := msg.Header.Get(nats.MsgIdHdr); got != want.ID {
					t.Errorf("message %d Nats-Msg-Id = %q, want %q", i, got, want.ID)
				}
				if enc == events.Binary && msg.Header.Get("ce-type") != string(want.Type) {
					t.Errorf("message %d ce-type = %q", i, msg.Header.Get("ce-type"))
				}
				ce, err := events.Decode(msg)
				if err != nil {
					t.Fatalf("message %d: decode: %v", i, err)
				}
				got, err := events.FromCloudEvent(ce)
				if err != nil {
					t.Fatal(err)
				}
				if got.ID != want.ID || got.Type != want.Type || got.ChatID != want.ChatID || got.Seq != want.Seq {
					t.Errorf("message %d = %+v, want %+v", i, got, want)
				}
			}
			info, err := st.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Msgs != uint64(len(evs)) {
				t.Errorf("stream holds %d messages, want %d", info.State.Msgs, len(evs))
			}
		})
	}
}

func TestPublishDropsDuplicates(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	st := ensureStream(t, js)
	p := newPublisher(t, js, events.PublisherConfig{})
	e := events.Examples()[4]
	if err := p.Publish(ctx, e, e); err != nil {
		t.Fatal(err)
	}
	// A second publisher (another replica) publishing the same event.
	other := newPublisher(t, js, events.PublisherConfig{Encoding: events.Structured})
	if err := other.Publish(ctx, e); err != nil {
		t.Fatalf("duplicate must count as success: %v", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d messages, want 1", info.State.Msgs)
	}
}

func TestPublishInvalidEventPublishesNothing(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	st := ensureStream(t, js)
	p := newPublisher(t, js, events.PublisherConfig{})
	evs := events.Examples()[:3]
	evs[1].Data = events.LineData{}
	err := p.Publish(ctx, evs...)
	var pe *events.PublishError
	if !errors.As(err, &pe) || !errors.Is(err, events.ErrPublish) || !errors.Is(err, events.ErrInvalidEvent) {
		t.Fatalf("err = %v, want PublishError wrapping ErrPublish and ErrInvalidEvent", err)
	}
	if pe.Index != 1 || pe.EventID != evs[1].ID {
		t.Errorf("PublishError = %+v, want index 1, id %q", pe, evs[1].ID)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Errorf("stream holds %d messages, want 0", info.State.Msgs)
	}
}

func TestPublishFailsTypedWhenServerStopped(t *testing.T) {
	s := natstest.StartServer(t)
	// Without a reconnect buffer a publish fails at once instead of waiting
	// for the server to come back.
	nc, js := natstest.Connect(t, s, nats.ReconnectBufSize(-1))
	ensureStream(t, js)
	p := newPublisher(t, js, events.PublisherConfig{})
	evs := events.Examples()[:2]
	if err := p.Publish(testContext(t), evs[0]); err != nil {
		t.Fatal(err)
	}
	s.Shutdown()
	s.WaitForShutdown()
	testwait.Until(t, testTimeout, func() error {
		if st := nc.Status(); st == nats.CONNECTED {
			return errors.New("client still connected")
		}
		return nil
	})

	err := p.Publish(testContext(t), evs[1], evs[0])
	var pe *events.PublishError
	if !errors.Is(err, events.ErrPublish) || !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a PublishError", err)
	}
	if pe.Index != 0 || pe.EventID != evs[1].ID || pe.Subject != events.Subject("lp", evs[1]) || pe.Err == nil {
		t.Errorf("PublishError = %+v", pe)
	}

	nc.Close()
	err = p.Publish(testContext(t), evs[1])
	if !errors.Is(err, events.ErrPublish) || !errors.Is(err, nats.ErrConnectionClosed) {
		t.Errorf("closed connection: err = %v, want ErrPublish wrapping nats.ErrConnectionClosed", err)
	}
}

func TestPublishExpectedStream(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	ensureStream(t, js)
	p := newPublisher(t, js, events.PublisherConfig{Stream: "SOMETHING_ELSE"})
	err := p.Publish(testContext(t), events.Examples()[0])
	if !errors.Is(err, events.ErrPublish) {
		t.Errorf("err = %v, want ErrPublish", err)
	}
}

func TestNewPublisherValidates(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	bad := []events.PublisherConfig{
		{Prefix: "lp.*"},
		{Prefix: "lp..x"},
		{Encoding: "xml"},
		{DataSchemaBase: "relative/path"},
	}
	for _, cfg := range bad {
		if _, err := events.NewPublisher(js, cfg, nil); !errors.Is(err, events.ErrInvalidConfig) {
			t.Errorf("%+v: err = %v, want ErrInvalidConfig", cfg, err)
		}
	}
	if _, err := events.NewPublisher(nil, events.PublisherConfig{}, nil); !errors.Is(err, events.ErrInvalidConfig) {
		t.Errorf("nil js: err = %v", err)
	}
	p, err := events.NewPublisher(js, events.PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Config(); got.Prefix != "lp" || got.Encoding != events.Binary || got.DataSchemaBase != events.DefaultDataSchemaBase {
		t.Errorf("defaults = %+v", got)
	}
}
