package commands

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/schemas"
)

// The tests of single pipeline steps (middleware) live in package commands:
// the steps are not exported. Each wraps a stub next step in one middleware
// and checks what that middleware adds, against an embedded NATS server.
// The black-box tests (package commands_test) check the composed pipelines.

const (
	stepAccount = "55500011"
	stepAgent   = "bot_one"
	stepWait    = 10 * time.Second
)

// noSessions runs no agent: the steps under test never reach a session.
type noSessions struct{}

func (noSessions) Session(string, string) (*lpchat.AgentSession, bool) { return nil, false }

// syncBuffer is a log sink safe to read while the consumer writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// RunEventServer starts an embedded NATS server with the event stream
// LP_EVENTS and returns a connection and a publisher of events into it.
// It is exported for the black-box tests too (it exists in test builds only).
func RunEventServer(t testing.TB) (*nats.Conn, jetstream.JetStream, *events.Publisher) {
	t.Helper()
	_, nc, js := natstest.RunServer(t)
	if _, err := events.EnsureStream(context.Background(), js, events.StreamConfig{Name: "LP_EVENTS", Prefix: "lp"}); err != nil {
		t.Fatalf("event stream: %v", err)
	}
	pub, err := events.NewPublisher(js, events.PublisherConfig{Prefix: "lp"}, nil)
	if err != nil {
		t.Fatalf("publisher: %v", err)
	}
	return nc, js, pub
}

// stepEnv is a consumer ready to run single steps: its results bucket and
// dead-letter stream exist, its publisher writes to LP_EVENTS.
type stepEnv struct {
	c   *Consumer
	nc  *nats.Conn
	js  jetstream.JetStream
	log *syncBuffer
}

func newStepEnv(t *testing.T, src SessionSource, mod func(*Config)) *stepEnv {
	t.Helper()
	ctx := context.Background()
	nc, js, pub := RunEventServer(t)
	set, err := schemas.Compile()
	if err != nil {
		t.Fatalf("schemas: %v", err)
	}
	cfg := Config{Account: stepAccount, Storage: jetstream.MemoryStorage, MaxDeliver: 3,
		Backoff: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}}
	if mod != nil {
		mod(&cfg)
	}
	log := &syncBuffer{}
	c, err := New(cfg, nc, js, src, pub, set, slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if c.results, err = openResults(ctx, js, c.cfg, c.owner); err != nil {
		t.Fatalf("results: %v", err)
	}
	if err := ensureDeadLetterStream(ctx, js, c.cfg); err != nil {
		t.Fatalf("dead-letter stream: %v", err)
	}
	return &stepEnv{c: c, nc: nc, js: js, log: log}
}

// delivery is a decoded command message of mode for the agent, with an id
// in the body.
func (e *stepEnv) delivery(mode, command, id string) *delivery {
	kind := kindRequest
	if mode == modeDurable {
		kind = kindDurable
	}
	m := &nats.Msg{Subject: e.c.subjects.subject(kind, stepAgent, command), Header: nats.Header{},
		Data: []byte(`{"id":"` + id + `","status":"Away"}`)}
	return e.c.newDelivery(m, mode)
}

// stub is a next step that returns out and counts its calls.
type stub struct {
	out   outcome
	calls int
	ctx   context.Context // of the last call
	tries uint64          // the delivery's try number at the last call
}

func (s *stub) step(ctx context.Context, d *delivery) outcome {
	s.calls++
	s.ctx, s.tries = ctx, d.tries
	return s.out
}

// subscribe records the messages on subject.
func subscribe(t *testing.T, nc *nats.Conn, subject string) chan *nats.Msg {
	t.Helper()
	ch := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(subject, ch)
	if err != nil {
		t.Fatalf("subscribe %s: %v", subject, err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return ch
}

// receive waits for the next message on ch.
func receive(t *testing.T, ch chan *nats.Msg) *nats.Msg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(stepWait):
		t.Fatal("no message in time")
		return nil
	}
}
