package commands

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ownership is a SessionSource and OwnershipSource running stepAgent,
// owned when owns is set.
type ownership struct {
	noSessions
	owns atomic.Bool
}

func (*ownership) Agents(string) []string      { return []string{stepAgent} }
func (o *ownership) Owns(_, agent string) bool { return agent == stepAgent && o.owns.Load() }

func TestRoutedToOwnerHandsBackAndCountsTries(t *testing.T) {
	own := &ownership{}
	e := newStepEnv(t, own, func(c *Config) { c.OwnershipCheck = 40 * time.Millisecond })
	ctx := context.Background()
	pos := position{seq: 7, stored: time.Now().UnixNano()}
	deliver := func(delivered uint64, out outcome) (outcome, *stub) {
		d := e.delivery(modeDurable, AgentStatus, "own-1")
		d.tries, d.pos = delivered, pos
		s := &stub{out: out}
		return e.c.routedToOwner(s.step)(ctx, d), s
	}
	skipped := func() uint64 {
		n, err := e.c.results.skipped(ctx, e.c.skipKey(pos), pos)
		if err != nil {
			t.Fatalf("skip count: %v", err)
		}
		return n
	}

	// Standing by: handed back after one ownership check, not run.
	for delivered := uint64(1); delivered <= 2; delivered++ {
		out, s := deliver(delivered, outcome{final: true})
		if s.calls != 0 || !out.redeliver || out.delay != 40*time.Millisecond {
			t.Fatalf("standby delivery %d: runs=%d redeliver=%v delay=%v, want handed back after 40ms",
				delivered, s.calls, out.redeliver, out.delay)
		}
	}
	if n := skipped(); n != 2 {
		t.Fatalf("%d skipped deliveries counted, want 2", n)
	}

	// Owned: the try number leaves the skips out; a retry keeps the count.
	own.owns.Store(true)
	_, s := deliver(4, outcome{redeliver: true})
	if s.calls != 1 || s.tries != 2 {
		t.Errorf("owner's delivery 4: runs=%d as try %d, want 1 run as try 2", s.calls, s.tries)
	}
	if n := skipped(); n != 2 {
		t.Errorf("a retry dropped the skip count (%d)", n)
	}
	// Done, but not acked yet: an ack that does not land brings it again,
	// and its skips must still be left out (settled drops the count).
	out, s := deliver(5, outcome{final: true})
	if s.tries != 3 {
		t.Errorf("owner's delivery 5 ran as try %d, want 3", s.tries)
	}
	if n := skipped(); n != 2 || out.redeliver {
		t.Errorf("done before its ack: %d skips counted (want 2), redeliver=%v", n, out.redeliver)
	}
}

// electingKV is a results bucket electing a leader: its first fails calls
// (of Get, Create and Update) answer "no responders", as JetStream does
// meanwhile.
type electingKV struct {
	jetstream.KeyValue
	fails atomic.Int32
}

func (k *electingKV) refuse() bool { return k.fails.Add(-1) >= 0 }

func (k *electingKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	if k.refuse() {
		return nil, jetstream.ErrNoStreamResponse
	}
	return k.KeyValue.Get(ctx, key)
}

func (k *electingKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	if k.refuse() {
		return 0, jetstream.ErrNoStreamResponse
	}
	return k.KeyValue.Create(ctx, key, value, opts...)
}

func (k *electingKV) Update(ctx context.Context, key string, value []byte, last uint64) (uint64, error) {
	if k.refuse() {
		return 0, jetstream.ErrNoStreamResponse
	}
	return k.KeyValue.Update(ctx, key, value, last)
}

// TestRoutedToOwnerCountsSkipsThroughAnElection: a standby's skips are
// counted though the results bucket is electing a leader, so the owner
// runs the command as its first try instead of dead-lettering it untried
// (found by cmd/chaos: a NATS node SIGKILLed while the owner was being
// replaced dead-lettered durable commands "given up after 5 tries").
func TestRoutedToOwnerCountsSkipsThroughAnElection(t *testing.T) {
	own := &ownership{}
	e := newStepEnv(t, own, func(c *Config) { c.OwnershipCheck = 10 * time.Millisecond })
	ctx := context.Background()
	kv := &electingKV{KeyValue: e.c.results.kv}
	e.c.results.kv = kv
	pos := position{seq: 9, stored: time.Now().UnixNano()}
	deliver := func(delivered uint64) *stub {
		d := e.delivery(modeDurable, AgentStatus, "elect-1")
		d.tries, d.pos = delivered, pos
		s := &stub{out: outcome{final: true}}
		e.c.routedToOwner(s.step)(ctx, d)
		return s
	}
	const skips = 6 // more than MaxDeliver (3 here)
	for delivered := uint64(1); delivered <= skips; delivered++ {
		kv.fails.Store(2)
		if s := deliver(delivered); s.calls != 0 {
			t.Fatalf("standby delivery %d ran", delivered)
		}
	}
	own.owns.Store(true)
	kv.fails.Store(2)
	if s := deliver(skips + 1); s.calls != 1 || s.tries != 1 {
		t.Errorf("the owner's delivery ran %d times as try %d; want once as try 1 (every skip counted)", s.calls, s.tries)
	}
}
