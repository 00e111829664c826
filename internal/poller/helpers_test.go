package poller_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/poller"
	"github.com/lpbridge/lpbridge/internal/state"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

const (
	acct         = "55500011"
	login        = "bot.one"
	password     = "demo-password"
	token        = "bot_one" // events.Token(login)
	loginTwo     = "bot.two" // a second agent, in skill Billing, driven by the tests
	skillBilling = "31100811"
	// waitFor bounds every wait; generous for a shared machine under -race.
	waitFor = 20 * time.Second
	// tickEvery is the poll interval of the tests.
	tickEvery = 50 * time.Millisecond
)

// env is one test world: a simulator on loopback, an embedded NATS server
// with the event stream and the state bucket.
type env struct {
	t      testing.TB
	sim    *lpsim.Simulator
	srv    *httptest.Server
	js     jetstream.JetStream
	stream jetstream.Stream
	pub    *events.Publisher
	store  *state.Store
}

func newEnv(t testing.TB, simCfg lpsim.Config) *env {
	t.Helper()
	return newEnvWith(t, simCfg, nil)
}

// newEnvWith is newEnv with the simulator's handler wrapped by wrap (to
// alter what the service says).
func newEnvWith(t testing.TB, simCfg lpsim.Config, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	sim, err := lpsim.New(simCfg)
	if err != nil {
		t.Fatalf("lpsim.New: %v", err)
	}
	t.Cleanup(sim.Close)
	for _, err := range []error{
		sim.AddAccount(acct),
		sim.AddSkill(acct, lpsim.SkillSpec{ID: "31100810", Name: "Support"}),
		sim.AddSkill(acct, lpsim.SkillSpec{ID: skillBilling, Name: "Billing"}),
		sim.AddAgent(acct, lpsim.AgentSpec{LoginName: login, Password: password, Nickname: "Bot One", SkillIDs: []string{"31100810"}}),
		sim.AddAgent(acct, lpsim.AgentSpec{LoginName: loginTwo, Password: password, Nickname: "Bot Two", SkillIDs: []string{skillBilling}}),
	} {
		if err != nil {
			t.Fatalf("simulator setup: %v", err)
		}
	}
	var h http.Handler = sim
	if wrap != nil {
		h = wrap(sim)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	_, _, js := natstest.RunServer(t)
	ctx := context.Background()
	stream, err := events.EnsureStream(ctx, js, events.StreamConfig{Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}
	pub, err := events.NewPublisher(js, events.PublisherConfig{}, nil)
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	store, err := state.Open(ctx, js, state.Config{})
	if err != nil {
		t.Fatalf("state.Open: %v", err)
	}
	return &env{t: t, sim: sim, srv: srv, js: js, stream: stream, pub: pub, store: store}
}

// tinyRetry keeps the client's retries of 5xx and 429 short.
func tinyRetry() lpchat.RetryPolicy {
	return lpchat.RetryPolicy{
		ServerBackoff:      []time.Duration{time.Millisecond, 2 * time.Millisecond},
		MinRetryAfter:      time.Millisecond,
		LoginMinRetryAfter: time.Millisecond,
		Max429Retries:      2,
		MaxRetryAfter:      5 * time.Second,
	}
}

// client returns a new lpchat client of the agent; rt, if given, wraps the
// transport (to count requests).
func (e *env) client(rt func(http.RoundTripper) http.RoundTripper) *lpchat.Client {
	e.t.Helper()
	cfg := lpchat.Config{DomainURL: e.srv.URL, AllowInsecureHTTP: true, Account: acct, Retry: tinyRetry()}
	if rt != nil {
		cfg.Transport = rt(http.DefaultTransport.(*http.Transport).Clone())
	}
	c, err := lpchat.New(cfg)
	if err != nil {
		e.t.Fatalf("lpchat.New: %v", err)
	}
	return c
}

// config is the worker config of the tests: fast ticks, fast recovery.
func config(mod func(*poller.Config)) poller.Config {
	cfg := poller.Config{
		Account: acct,
		Agent: poller.AgentConfig{
			LoginName:   login,
			Credentials: lpchat.Credentials{Username: login, Password: password},
			GoOnline:    true,
			AutoAccept:  true,
		},
		PollInterval:     tickEvery,
		SessionSyncEvery: 2,
		ReloginBackoff:   []time.Duration{20 * time.Millisecond, 40 * time.Millisecond},
	}
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

// worker builds a worker; pub and store default to the env's.
func (e *env) worker(cfg poller.Config, client *lpchat.Client, pub poller.Publisher, store poller.Store) *poller.Worker {
	e.t.Helper()
	if client == nil {
		client = e.client(nil)
	}
	if pub == nil {
		pub = e.pub
	}
	if store == nil {
		store = e.store
	}
	w, err := poller.New(cfg, client, pub, store, testLogger())
	if err != nil {
		e.t.Fatalf("poller.New: %v", err)
	}
	return w
}

// testLogger logs to stderr when LPBRIDGE_TEST_LOG is set, else nowhere.
func testLogger() *slog.Logger {
	if os.Getenv("LPBRIDGE_TEST_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// run starts w.Run; the returned stop cancels it and waits until it returned
// (also at cleanup).
func run(t testing.TB, w *poller.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(waitFor):
			t.Errorf("Run did not return after cancel")
		}
	})
	t.Cleanup(stop)
	return stop
}

// got is one event read back from the stream.
type got struct {
	ID      string
	Subject string
	Type    events.Type
	ChatID  string
	Seq     int64
	Data    any
	Raw     []byte // the data as it arrived, for schema validation
	// TraceParent is the event's traceparent extension ("" without one).
	TraceParent string
}

// collector reads every event of the stream, in stream order.
type collector struct {
	t   testing.TB
	mu  sync.Mutex
	evs []got
	bad []error
}

func (e *env) collect() *collector {
	e.t.Helper()
	c := &collector{t: e.t}
	ctx := context.Background()
	cons, err := e.js.OrderedConsumer(ctx, events.DefaultStreamName, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"lp.evt.>"}})
	if err != nil {
		e.t.Fatalf("OrderedConsumer: %v", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		c.add(m)
	})
	if err != nil {
		e.t.Fatalf("Consume: %v", err)
	}
	e.t.Cleanup(cc.Stop)
	return c
}

func (c *collector) add(m jetstream.Msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ce, err := events.Decode(&nats.Msg{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
	if err != nil {
		c.bad = append(c.bad, fmt.Errorf("decode %s: %w", m.Subject(), err))
		return
	}
	ev, err := events.FromCloudEvent(ce)
	if err != nil {
		c.bad = append(c.bad, fmt.Errorf("from cloudevent %s: %w", m.Subject(), err))
		return
	}
	c.evs = append(c.evs, got{ID: ev.ID, Subject: m.Subject(), Type: ev.Type, ChatID: ev.ChatID, Seq: ev.Seq, Data: ev.Data, Raw: ce.Data(),
		TraceParent: ev.TraceParent})
}

// all returns a copy of what arrived so far; undecodable messages fail the test.
func (c *collector) all() []got {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, err := range c.bad {
		c.t.Errorf("bad message: %v", err)
	}
	c.bad = nil
	return append([]got(nil), c.evs...)
}

// of returns the events of type t (and of chat, unless chat is "").
func (c *collector) of(t events.Type, chat string) []got {
	var out []got
	for _, g := range c.all() {
		if g.Type == t && (chat == "" || g.ChatID == chat) {
			out = append(out, g)
		}
	}
	return out
}

// waitUntil polls cond (which describes what is missing) until it returns "".
func waitUntil(t testing.TB, what string, cond func() string) {
	t.Helper()
	testwait.Until(t, waitFor, func() error {
		if miss := cond(); miss != "" {
			return fmt.Errorf("%s: %s", what, miss)
		}
		return nil
	})
}

// waitEvent waits until an event of type t of chat satisfies match and
// returns it.
func (c *collector) waitEvent(t events.Type, chat string, match func(any) bool) got {
	c.t.Helper()
	var found got
	waitUntil(c.t, string(t), func() string {
		for _, g := range c.of(t, chat) {
			if match == nil || match(g.Data) {
				found = g
				return ""
			}
		}
		return fmt.Sprintf("not among %d events: %s", len(c.all()), c.summary())
	})
	return found
}

// summary lists the types that arrived, for failure messages.
func (c *collector) summary() string {
	var b strings.Builder
	for _, g := range c.all() {
		b.WriteString(strings.TrimPrefix(string(g.Type), "lpbridge."))
		b.WriteByte(' ')
	}
	return b.String()
}

// chatLines returns the visitor/agent/system texts of a chat's line events,
// failing when a service event id arrives twice or out of order.
func (c *collector) chatLines(chat string) []string {
	c.t.Helper()
	var texts []string
	last := -1
	for _, g := range c.of(events.ChatLine, chat) {
		d := g.Data.(events.LineData)
		if d.EventID <= last {
			c.t.Fatalf("chat %s: line event %d arrived after %d (doubled or out of order)", chat, d.EventID, last)
		}
		last = d.EventID
		texts = append(texts, d.Text)
	}
	return texts
}

// countingPublisher counts how often each event id is handed to Publish.
type countingPublisher struct {
	inner poller.Publisher
	mu    sync.Mutex
	n     map[string]int
}

func (p *countingPublisher) Publish(ctx context.Context, evs ...events.Event) error {
	p.mu.Lock()
	if p.n == nil {
		p.n = map[string]int{}
	}
	for _, e := range evs {
		p.n[e.ID]++
	}
	p.mu.Unlock()
	return p.inner.Publish(ctx, evs...)
}

func (p *countingPublisher) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[id]
}

// requestCounter counts the client's requests by kind.
type requestCounter struct {
	inner    http.RoundTripper
	ring     atomic.Int64 // GET incomingRequests
	sessions atomic.Int64 // GET chatSessions
	status   atomic.Int64 // GET availability
	multi    atomic.Int64 // GET {as}/chat?chatSessionKeys=
	chat     atomic.Int64 // GET {as}/chat/{id} (whole chat)
	all      atomic.Int64
}

// ticks counts the ticks: each reads either the ringing count or, in its
// place, chatSessions or the availability.
func (r *requestCounter) ticks() int64 {
	return r.ring.Load() + r.sessions.Load() + r.status.Load()
}

func (r *requestCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	r.all.Add(1)
	p := req.URL.Path
	switch {
	case req.Method == http.MethodGet && strings.HasSuffix(p, "/incomingRequests"):
		r.ring.Add(1)
	case req.Method == http.MethodGet && strings.HasSuffix(p, "/chatSessions"):
		r.sessions.Add(1)
	case req.Method == http.MethodGet && strings.HasSuffix(p, "/availability"):
		r.status.Add(1)
	case req.Method == http.MethodGet && strings.HasSuffix(p, "/chat") && req.URL.Query().Has("chatSessionKeys"):
		r.multi.Add(1)
	case req.Method == http.MethodGet && strings.Contains(p, "/chat/") && !strings.Contains(p[strings.Index(p, "/chat/")+6:], "/"):
		r.chat.Add(1)
	}
	return r.inner.RoundTrip(req)
}

// startChat starts a visitor's chat in the simulator.
func (e *env) startChat(v lpsim.VisitorSpec) string {
	e.t.Helper()
	id, err := e.sim.StartChat(acct, v)
	if err != nil {
		e.t.Fatalf("StartChat: %v", err)
	}
	return id
}

func (e *env) visitorLine(chat, text string) {
	e.t.Helper()
	if _, err := e.sim.VisitorLine(acct, chat, text); err != nil {
		e.t.Fatalf("VisitorLine: %v", err)
	}
}

// sessionOf waits until the worker has an agent session and returns it.
func sessionOf(t testing.TB, w *poller.Worker) *lpchat.AgentSession {
	t.Helper()
	var as *lpchat.AgentSession
	waitUntil(t, "agent session", func() string {
		if as = w.Session(); as == nil {
			return "none yet"
		}
		return ""
	})
	return as
}

// onlineAgent logs login in by its own client, outside any worker, and sets
// it Online, so that chats can be routed or transferred to it.
func (e *env) onlineAgent(t *testing.T, login string) *lpchat.AgentSession {
	t.Helper()
	ctx := context.Background()
	c := e.client(nil)
	if _, err := c.Login(ctx, lpchat.Credentials{Username: login, Password: password}); err != nil {
		t.Fatalf("login %s: %v", login, err)
	}
	as, err := c.StartAgentSession(ctx)
	if err != nil {
		t.Fatalf("agent session %s: %v", login, err)
	}
	if _, err := as.SetAvailability(ctx, lpchat.Online); err != nil {
		t.Fatalf("%s online: %v", login, err)
	}
	return as
}
