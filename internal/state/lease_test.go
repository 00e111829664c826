package state_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/state"
	"github.com/lpbridge/lpbridge/internal/testwait"
	"github.com/nats-io/nats.go/jetstream"
)

// leaseTTL is the TTL of the tests' leases: the shortest the server allows.
const leaseTTL = time.Second

func openLeases(t *testing.T, js jetstream.JetStream) *state.Leases {
	t.Helper()
	ls, err := state.OpenLeases(testContext(t), js, state.LeasesConfig{Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func acquire(t *testing.T, ls *state.Leases, owner string) *state.Lease {
	t.Helper()
	l, err := ls.Acquire(testContext(t), acct, agent, owner, leaseTTL)
	if err != nil {
		t.Fatalf("Acquire by %s: %v", owner, err)
	}
	if l.Owner() != owner || l.TTL() != leaseTTL {
		t.Fatalf("lease owner %q ttl %s; want %q %s", l.Owner(), l.TTL(), owner, leaseTTL)
	}
	return l
}

func holder(t *testing.T, ls *state.Leases) string {
	t.Helper()
	rec, ok, err := ls.Holder(testContext(t), acct, agent)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return ""
	}
	return rec.Owner
}

func TestLeaseOnlyOneContenderWins(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	ls := openLeases(t, js)
	ctx := testContext(t)
	owners := []string{"replica-a", "replica-b", "replica-c", "replica-d"}
	var mu sync.Mutex
	var winners []string
	var wg sync.WaitGroup
	for _, o := range owners {
		wg.Go(func() {
			_, err := ls.Acquire(ctx, acct, agent, o, leaseTTL)
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, o)
				mu.Unlock()
			case !errors.Is(err, state.ErrLeaseHeld):
				t.Errorf("Acquire by %s: %v, want nil or ErrLeaseHeld", o, err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("winners %v; want exactly one", winners)
	}
	if got := holder(t, ls); got != winners[0] {
		t.Errorf("Holder = %q, want the winner %q", got, winners[0])
	}
	// Another agent's lease is separate, also when the tokens look alike.
	for _, other := range []string{"helper.bot", "helper=2Ebot"} {
		if _, err := ls.Acquire(ctx, acct, other, "replica-b", leaseTTL); err != nil {
			t.Errorf("lease of agent %q: %v", other, err)
		}
	}
}

func TestLeaseLoserWinsAfterHolderStopsRenewing(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	ls := openLeases(t, js)
	ctx := testContext(t)
	a := acquire(t, ls, "replica-a")

	// While a renews (every TTL/3), b never gets the lease, for over two TTLs.
	renewed := 0
	pace := time.NewTicker(leaseTTL / 10)
	defer pace.Stop()
	for end := time.Now().Add(2*leaseTTL + leaseTTL/2); time.Now().Before(end); {
		if err := a.Renew(ctx); err != nil {
			t.Fatalf("renew %d: %v", renewed+1, err)
		}
		renewed++
		for range 3 {
			if _, err := ls.Acquire(ctx, acct, agent, "replica-b", leaseTTL); !errors.Is(err, state.ErrLeaseHeld) {
				t.Fatalf("b's Acquire while a renews = %v, want ErrLeaseHeld", err)
			}
			<-pace.C
		}
	}

	// a stops renewing: the server drops the key after the TTL, b takes it.
	stopped := time.Now()
	var b *state.Lease
	testwait.Until(t, testTimeout, func() error {
		l, err := ls.Acquire(ctx, acct, agent, "replica-b", leaseTTL)
		if err != nil {
			return err
		}
		b = l
		return nil
	})
	t.Logf("a renewed %d times; b took over %s after a's last renewal", renewed, time.Since(stopped).Round(time.Millisecond))
	if got := holder(t, ls); got != "replica-b" {
		t.Errorf("Holder = %q, want replica-b", got)
	}
	if err := a.Renew(ctx); !errors.Is(err, state.ErrLeaseLost) {
		t.Errorf("a's Renew after b took over = %v, want ErrLeaseLost", err)
	}
	if err := b.Renew(ctx); err != nil {
		t.Errorf("b's Renew: %v", err)
	}
	// a's release must not free b's lease.
	if err := a.Release(ctx); err != nil {
		t.Errorf("a's Release of a lost lease: %v", err)
	}
	if got := holder(t, ls); got != "replica-b" {
		t.Errorf("after a's release Holder = %q, want replica-b", got)
	}
}

func TestLeaseReleaseLetsAnotherTakeItAtOnce(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	ls := openLeases(t, js)
	ctx := testContext(t)
	a := acquire(t, ls, "replica-a")
	if err := a.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if got := holder(t, ls); got != "" {
		t.Errorf("Holder after release = %q, want none", got)
	}
	acquire(t, ls, "replica-b") // at once: no waiting for the TTL
	if err := a.Renew(ctx); !errors.Is(err, state.ErrLeaseLost) {
		t.Errorf("Renew after release = %v, want ErrLeaseLost", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Errorf("second Release = %v, want nil", err)
	}
	if got := holder(t, ls); got != "replica-b" {
		t.Errorf("Holder = %q, want replica-b", got)
	}
}

func TestLeaseSameOwnerTakesItOver(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	ls := openLeases(t, js)
	ctx := testContext(t)
	old := acquire(t, ls, "replica-a")
	again := acquire(t, ls, "replica-a") // e.g. after its renewals failed for a while
	if err := old.Renew(ctx); !errors.Is(err, state.ErrLeaseLost) {
		t.Errorf("the earlier holding's Renew = %v, want ErrLeaseLost", err)
	}
	if err := again.Renew(ctx); err != nil {
		t.Errorf("Renew of the new holding: %v", err)
	}
	if _, err := ls.Acquire(ctx, acct, agent, "replica-b", leaseTTL); !errors.Is(err, state.ErrLeaseHeld) {
		t.Errorf("another owner's Acquire = %v, want ErrLeaseHeld", err)
	}
}

func TestAgentLease(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	ls := openLeases(t, js)
	ctx := testContext(t)
	a := ls.Agent(acct, agent, "replica-a", leaseTTL)
	b := ls.Agent(acct, agent, "replica-b", leaseTTL)
	if a.Owner() != "replica-a" || a.TTL() != leaseTTL {
		t.Errorf("owner %q ttl %s", a.Owner(), a.TTL())
	}
	if err := a.Renew(ctx); !errors.Is(err, state.ErrLeaseLost) {
		t.Errorf("Renew before Acquire = %v, want ErrLeaseLost", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Errorf("Release before Acquire = %v, want nil", err)
	}
	if err := a.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Acquire(ctx); !errors.Is(err, state.ErrLeaseHeld) {
		t.Fatalf("b.Acquire = %v, want ErrLeaseHeld", err)
	}
	if err := a.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Acquire(ctx); err != nil {
		t.Fatalf("b.Acquire after a released: %v", err)
	}
	if err := a.Renew(ctx); !errors.Is(err, state.ErrLeaseLost) {
		t.Errorf("a.Renew after release = %v, want ErrLeaseLost", err)
	}
	// a acquires again later, once b is gone.
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Acquire(ctx); err != nil {
		t.Errorf("a.Acquire again: %v", err)
	}
}

func TestNewOwnerIDIsUnique(t *testing.T) {
	a, b := state.NewOwnerID(), state.NewOwnerID()
	if a == b || a == "" {
		t.Errorf("owner ids %q and %q; want two different ones", a, b)
	}
}

func TestLeaseInvalidInput(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	ctx := testContext(t)
	for _, cfg := range []state.LeasesConfig{{Bucket: "a b"}, {Replicas: 6}, {Storage: 7}} {
		if _, err := state.OpenLeases(ctx, js, cfg); !errors.Is(err, state.ErrInvalidConfig) {
			t.Errorf("OpenLeases(%+v) = %v, want ErrInvalidConfig", cfg, err)
		}
	}
	if _, err := state.OpenLeases(ctx, nil, state.LeasesConfig{}); !errors.Is(err, state.ErrInvalidConfig) {
		t.Errorf("nil js: %v", err)
	}
	ls := openLeases(t, js)
	if ls.Bucket() != state.DefaultLeaseBucket {
		t.Errorf("bucket %q", ls.Bucket())
	}
	for name, call := range map[string]func() error{
		"ttl below 1s":    func() error { _, err := ls.Acquire(ctx, acct, agent, "o", 500*time.Millisecond); return err },
		"ttl not whole s": func() error { _, err := ls.Acquire(ctx, acct, agent, "o", 1500*time.Millisecond); return err },
		"empty owner":     func() error { _, err := ls.Acquire(ctx, acct, agent, "", leaseTTL); return err },
		"empty agent":     func() error { _, _, err := ls.Holder(ctx, acct, ""); return err },
	} {
		if err := call(); !errors.Is(err, state.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
}

func TestLeaseCorruptRecord(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	ls := openLeases(t, js)
	ctx := testContext(t)
	kv, err := js.KeyValue(ctx, state.DefaultLeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "lease.55500011.helper_bot", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if _, err := ls.Acquire(ctx, acct, agent, "o", leaseTTL); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("Acquire over a corrupt record = %v, want ErrCorrupt", err)
	}
}
