package poller_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
	"github.com/lpbridge/lpbridge/internal/state"
)

// leaseTTL is the tests' lease TTL: the shortest the server allows.
const leaseTTL = time.Second

// testLease wraps a real lease: it counts Acquire calls (one per TTL/3
// while standing by) and can make Renew fail as if NATS did not answer.
type testLease struct {
	inner     poller.Lease
	acquires  atomic.Int64
	failRenew atomic.Bool
}

func (l *testLease) Acquire(ctx context.Context) error {
	l.acquires.Add(1)
	return l.inner.Acquire(ctx)
}

func (l *testLease) Renew(ctx context.Context) error {
	if l.failRenew.Load() {
		return errors.New("nats: timeout (injected by the test)")
	}
	return l.inner.Renew(ctx)
}

func (l *testLease) Release(ctx context.Context) error { return l.inner.Release(ctx) }
func (l *testLease) TTL() time.Duration                { return l.inner.TTL() }

// waitAcquires waits until l.Acquire was called n more times than now: the
// worker has been standing by for about n·TTL/3.
func (l *testLease) waitAcquires(t *testing.T, n int64) {
	t.Helper()
	target := l.acquires.Load() + n
	waitUntil(t, "lease tries", func() string {
		if got := l.acquires.Load(); got < target {
			return fmt.Sprintf("%d of %d", got, target)
		}
		return ""
	})
}

func (e *env) leases() *state.Leases {
	e.t.Helper()
	ls, err := state.OpenLeases(context.Background(), e.js, state.LeasesConfig{Storage: jetstream.MemoryStorage})
	if err != nil {
		e.t.Fatalf("OpenLeases: %v", err)
	}
	return ls
}

// leasedWorker is a worker of bot.one holding owner's lease; its client's
// requests and its publishes are counted.
type leasedWorker struct {
	w     *poller.Worker
	lease *testLease
	reqs  *requestCounter
	pub   *countingPublisher
	all   atomic.Int64 // events handed to Publish
}

func (e *env) leasedWorker(ls *state.Leases, owner string) *leasedWorker {
	e.t.Helper()
	lw := &leasedWorker{lease: &testLease{inner: ls.Agent(acct, token, owner, leaseTTL)}}
	client := e.client(func(rt http.RoundTripper) http.RoundTripper {
		lw.reqs = &requestCounter{inner: rt}
		return lw.reqs
	})
	lw.pub = &countingPublisher{inner: publishCounter{inner: e.pub, n: &lw.all}}
	lw.w = e.worker(config(func(c *poller.Config) { c.Lease = lw.lease }), client, lw.pub, nil)
	return lw
}

// publishCounter counts the events handed to Publish.
type publishCounter struct {
	inner poller.Publisher
	n     *atomic.Int64
}

func (p publishCounter) Publish(ctx context.Context, evs ...events.Event) error {
	p.n.Add(int64(len(evs)))
	return p.inner.Publish(ctx, evs...)
}

func holder(t *testing.T, ls *state.Leases) string {
	t.Helper()
	rec, ok, err := ls.Holder(context.Background(), acct, token)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return ""
	}
	return rec.Owner
}

// TestLeaseOneOwnerAtATime: of two workers of the same agent only the one
// holding the lease logs in and polls; the other stands by without a
// single request or publish, and takes over when the first stops (and so
// releases the lease), resuming its agent session; every line arrives once.
func TestLeaseOneOwnerAtATime(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	ls := e.leases()
	a := e.leasedWorker(ls, "replica-a")
	runA := start(t, a.w)
	started := col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionStarted })
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "one")
	waitLine(col, chat, "one")

	b := e.leasedWorker(ls, "replica-b")
	start(t, b.w)
	b.lease.waitAcquires(t, 3)
	e.visitorLine(chat, "two")
	waitLine(col, chat, "two")
	b.lease.waitAcquires(t, 1)
	if n := b.reqs.all.Load(); n != 0 || b.w.Session() != nil || b.all.Load() != 0 {
		t.Fatalf("standing by, b made %d requests, published %d events, session %v; want none", n, b.all.Load(), b.w.Session())
	}
	if !b.w.Healthy(time.Minute) {
		t.Error("a worker standing by is not Healthy")
	}
	if got := holder(t, ls); got != "replica-a" {
		t.Errorf("holder %q, want replica-a", got)
	}

	a.w.Stop()
	runA.wait(t, "a after Stop")
	resumed := col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionResumed })
	if id, want := resumed.Data.(events.SessionData).AgentSessionID, started.Data.(events.SessionData).AgentSessionID; id != want {
		t.Errorf("b resumed agent session %q, want a's %q", id, want)
	}
	if got := holder(t, ls); got != "replica-b" {
		t.Errorf("holder %q, want replica-b", got)
	}
	e.visitorLine(chat, "three")
	waitLine(col, chat, "three")
	wantLines(t, col, chat, "one", "two", "three")
	checkStream(t, settled(t, e, col))
}

// TestLeaseLostStopsPolling: another replica takes the lease; the worker
// stops polling at once, makes no request and publishes nothing while the
// other holds it, and once the other lets go it takes the lease again and
// goes on from the cursors in KV: every line once, in order.
func TestLeaseLostStopsPolling(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	ls := e.leases()
	a := e.leasedWorker(ls, "replica-a")
	start(t, a.w)
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "one")
	waitLine(col, chat, "one")

	// An intruder takes the lease from under the worker.
	kv, err := e.js.KeyValue(context.Background(), state.DefaultLeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	var intruder *state.Lease
	waitUntil(t, "the intruder takes the lease", func() string {
		if err := kv.Purge(context.Background(), "lease."+acct+"."+token); err != nil {
			return err.Error()
		}
		l, err := ls.Acquire(context.Background(), acct, token, "intruder", 10*time.Second)
		if err != nil {
			return err.Error()
		}
		intruder = l
		return ""
	})
	waitUntil(t, "the worker lets the session go", func() string {
		if a.w.Session() != nil {
			return "it still has one"
		}
		return ""
	})
	a.lease.waitAcquires(t, 1) // back to waiting for the lease
	reqs, pubs := a.reqs.all.Load(), a.all.Load()
	e.visitorLine(chat, "two")
	a.lease.waitAcquires(t, 2)
	if n, p := a.reqs.all.Load(), a.all.Load(); n != reqs || p != pubs || a.w.Session() != nil {
		t.Fatalf("after losing the lease the worker made %d requests and published %d events; want none", n-reqs, p-pubs)
	}
	if got := holder(t, ls); got != "intruder" {
		t.Fatalf("holder %q, want the intruder", got)
	}

	if err := intruder.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitLine(col, chat, "two")
	e.visitorLine(chat, "three")
	waitLine(col, chat, "three")
	wantLines(t, col, chat, "one", "two", "three")
	checkStream(t, settled(t, e, col))
}

// TestLeaseNotRenewedInTime: when renewals fail (NATS does not answer) for
// so long that the lease may expire before the next try, the worker stops
// at once as if it had lost it; once renewals work again it takes the lease
// again and goes on, every line once.
func TestLeaseNotRenewedInTime(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	ls := e.leases()
	a := e.leasedWorker(ls, "replica-a")
	start(t, a.w)
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "one")
	waitLine(col, chat, "one")

	a.lease.failRenew.Store(true)
	acquires := a.lease.acquires.Load()
	waitUntil(t, "the worker gives up the session", func() string {
		if a.w.Session() != nil || a.lease.acquires.Load() == acquires {
			return "still polling"
		}
		return ""
	})
	a.lease.failRenew.Store(false)
	e.visitorLine(chat, "two")
	waitLine(col, chat, "two")
	if got := holder(t, ls); got != "replica-a" {
		t.Errorf("holder %q, want replica-a", got)
	}
	wantLines(t, col, chat, "one", "two")
	checkStream(t, settled(t, e, col))
}
