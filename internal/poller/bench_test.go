package poller

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/state"
)

// BenchmarkTick measures one steady-state poll tick (incomingRequests, one
// multi-chat request, and every 5th tick chatSessions + availability) of an
// agent with 1 and 10 open chats, against the simulator over loopback,
// with the real publisher and KV store behind it.
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("chats=%d", n), func(b *testing.B) { benchTick(b, n) })
	}
}

func benchTick(b *testing.B, chats int) {
	const acct, login = "55500011", "bench.bot"
	sim, err := lpsim.New(lpsim.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
	if err := sim.AddAccount(acct); err != nil {
		b.Fatal(err)
	}
	if err := sim.AddAgent(acct, lpsim.AgentSpec{LoginName: login, Password: "pw", Nickname: "Bench"}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	b.Cleanup(srv.Close)
	_, _, js := natstest.RunServer(b)
	ctx := context.Background()
	if _, err := events.EnsureStream(ctx, js, events.StreamConfig{Storage: jetstream.MemoryStorage}); err != nil {
		b.Fatal(err)
	}
	pub, err := events.NewPublisher(js, events.PublisherConfig{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	store, err := state.Open(ctx, js, state.Config{})
	if err != nil {
		b.Fatal(err)
	}
	client, err := lpchat.New(lpchat.Config{DomainURL: srv.URL, AllowInsecureHTTP: true, Account: acct})
	if err != nil {
		b.Fatal(err)
	}
	w, err := New(Config{
		Account: acct,
		Agent:   AgentConfig{LoginName: login, Credentials: lpchat.Credentials{Password: "pw"}, GoOnline: true, AutoAccept: true},
	}, client, pub, store, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.load(ctx); err != nil {
		b.Fatal(err)
	}
	as, err := w.establish(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for i := range chats {
		if _, err := sim.StartChat(acct, lpsim.VisitorSpec{Name: fmt.Sprintf("v%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	// Warm up until every chat is accepted and known.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		if err := w.tick(ctx, as, i%w.cfg.SessionSyncEvery == 0); err != nil {
			b.Fatal(err)
		}
		if known(w) == chats {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d chats known after warm-up", known(w), chats)
		}
	}

	reqs := sim.Requests()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := w.tick(ctx, as, i%w.cfg.SessionSyncEvery == 0); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(sim.Requests()-reqs)/float64(b.N), "req/tick")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/tick")
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
