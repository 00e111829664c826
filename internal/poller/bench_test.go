package poller

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/state"
)

// BenchmarkTick measures one steady-state poll tick (incomingRequests or,
// every 5th tick, chatSessions or availability in its place, and one
// multi-chat request) of an agent with 1 and 10 open chats, against the
// simulator over loopback, with the real publisher and KV store behind it.
// "lines" writes a visitor line into every chat before each tick (outside
// the timer), so that the tick maps, publishes and saves them.
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("chats=%d", n), func(b *testing.B) { benchTick(b, n, false) })
	}
	b.Run("chats=10/lines", func(b *testing.B) { benchTick(b, 10, true) })
}

func benchTick(b *testing.B, chats int, lines bool) {
	r := newTickRig(b, chats, false, nil)
	ctx := context.Background()
	reqs := r.sim.Requests()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if lines {
			b.StopTimer()
			for _, id := range r.chats {
				if _, err := r.sim.VisitorLine(r.acct, id, fmt.Sprintf("line %d", i)); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		if err := r.w.tick(ctx, r.as, i%r.w.cfg.SessionSyncEvery == 0); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(r.sim.Requests()-reqs)/float64(b.N), "req/tick")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/tick")
}

// tickRig is a worker with an agent session and open, known chats, for
// driving tick directly: a simulator on loopback, an embedded NATS server,
// the real publisher and KV store.
type tickRig struct {
	acct  string
	sim   *lpsim.Simulator
	url   string // the simulator's
	w     *Worker
	as    *lpchat.AgentSession
	js    jetstream.JetStream
	chats []string
	reqs  *pathLog // with logRequests, else nil
}

// newTickRig starts chats chats and ticks until the worker knows them all;
// logRequests logs the client's requests in reqs (not for benchmarks: it
// allocates); mod, if given, changes the worker's config.
func newTickRig(tb testing.TB, chats int, logRequests bool, mod func(*Config)) *tickRig {
	tb.Helper()
	const acct, login = "55500011", "bench.bot"
	sim, err := lpsim.New(lpsim.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sim.Close)
	if err := sim.AddAccount(acct); err != nil {
		tb.Fatal(err)
	}
	if err := sim.AddAgent(acct, lpsim.AgentSpec{LoginName: login, Password: "pw", Nickname: "Bench"}); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	tb.Cleanup(srv.Close)
	_, _, js := natstest.RunServer(tb)
	ctx := context.Background()
	if _, err := events.EnsureStream(ctx, js, events.StreamConfig{Storage: jetstream.MemoryStorage}); err != nil {
		tb.Fatal(err)
	}
	pub, err := events.NewPublisher(js, events.PublisherConfig{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	store, err := state.Open(ctx, js, state.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	ccfg := lpchat.Config{DomainURL: srv.URL, AllowInsecureHTTP: true, Account: acct}
	var reqs *pathLog
	if logRequests {
		reqs = &pathLog{inner: http.DefaultTransport.(*http.Transport).Clone()}
		ccfg.Transport = reqs
	}
	client, err := lpchat.New(ccfg)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := Config{
		Account: acct,
		Agent:   AgentConfig{LoginName: login, Credentials: lpchat.Credentials{Password: "pw"}, GoOnline: true, AutoAccept: true},
	}
	if mod != nil {
		mod(&cfg)
	}
	w, err := New(cfg, client, pub, store, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.load(ctx); err != nil {
		tb.Fatal(err)
	}
	as, err := w.establish(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	r := &tickRig{acct: acct, sim: sim, url: srv.URL, w: w, as: as, js: js, reqs: reqs}
	for i := range chats {
		id, err := sim.StartChat(acct, lpsim.VisitorSpec{Name: fmt.Sprintf("v%d", i)})
		if err != nil {
			tb.Fatal(err)
		}
		r.chats = append(r.chats, id)
	}
	// Warm up until every chat is accepted and known.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		if err := w.tick(ctx, as, i%w.cfg.SessionSyncEvery == 0); err != nil {
			tb.Fatal(err)
		}
		if known(w) == chats {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d chats known after warm-up", known(w), chats)
		}
	}
	return r
}

func known(w *Worker) int {
	n := 0
	for _, c := range w.chats {
		if c.known() && !c.reentry && !c.retiring {
			n++
		}
	}
	return n
}

// pathLog records the method and path of every request the client sends.
type pathLog struct {
	inner http.RoundTripper
	mu    sync.Mutex
	log   []string
}

func (p *pathLog) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.log = append(p.log, r.Method+" "+r.URL.Path)
	p.mu.Unlock()
	return p.inner.RoundTrip(r)
}

// since returns the requests after the first n, and how many there are in all.
func (p *pathLog) since(n int) ([]string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log[n:]...), len(p.log)
}

// count returns how many of reqs end in suffix.
func count(reqs []string, suffix string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasSuffix(r, suffix) {
			n++
		}
	}
	return n
}
