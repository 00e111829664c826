package state

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// lostAnswers makes the next writes time out, as during a leader election:
// "applied" ones reach the server and are stored, "dropped" ones never
// arrive; either way the caller gets nats.ErrTimeout and cannot tell which.
type lostAnswers struct {
	applied, dropped atomic.Int32
}

func (f *lostAnswers) fault(write func() error) error {
	switch {
	case f.applied.Load() > 0:
		f.applied.Add(-1)
		if err := write(); err != nil {
			return err
		}
		return nats.ErrTimeout
	case f.dropped.Load() > 0:
		f.dropped.Add(-1)
		return nats.ErrTimeout
	}
	return write()
}

// faultyJS is a JetStream whose publishes (lease renewals) lose answers.
type faultyJS struct {
	jetstream.JetStream
	f *lostAnswers
}

func (j faultyJS) PublishMsg(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	var ack *jetstream.PubAck
	err := j.f.fault(func() error {
		var err error
		ack, err = j.JetStream.PublishMsg(ctx, m, opts...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ack, nil
}

// faultyKV is a KeyValue whose creates (lease acquisitions) lose answers.
type faultyKV struct {
	jetstream.KeyValue
	f *lostAnswers
}

func (k faultyKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	var rev uint64
	err := k.f.fault(func() error {
		var err error
		rev, err = k.KeyValue.Create(ctx, key, value, opts...)
		return err
	})
	if err != nil {
		return 0, err
	}
	return rev, nil
}

func faultyLeases(t *testing.T) (*Leases, *Leases, *lostAnswers) {
	t.Helper()
	_, _, js := natstest.RunServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	plain, err := OpenLeases(ctx, js, LeasesConfig{Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	if !plain.keyTTL {
		t.Skip("server without per-message TTLs")
	}
	f := &lostAnswers{}
	faulty := &Leases{js: faultyJS{js, f}, kv: faultyKV{plain.kv, f}, cfg: plain.cfg, keyTTL: true}
	return faulty, plain, f
}

// TestLeaseCreateAppliedAnswerLost: the create that took the lease was
// stored but its answer lost. Acquire reads the key back, finds its own
// record and holds the lease, instead of failing (and leaving the key to
// block everyone, itself included, for a TTL) or creating it again.
func TestLeaseCreateAppliedAnswerLost(t *testing.T) {
	ls, plain, f := faultyLeases(t)
	ctx := context.Background()
	f.applied.Store(1)
	a, err := ls.Acquire(ctx, "1", "bot", "replica-a", 5*time.Second)
	if err != nil {
		t.Fatalf("Acquire whose create was stored though its answer was lost: %v", err)
	}
	if _, err := plain.Acquire(ctx, "1", "bot", "replica-b", 5*time.Second); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("b's Acquire = %v, want ErrLeaseHeld", err)
	}
	if err := a.Renew(ctx); err != nil {
		t.Fatalf("Renew after the lost answer: %v", err)
	}
}

// TestLeaseRenewAnswerLost: a renewal times out, stored or not. Renew
// reads the key back: a stored one is adopted (its revision too, so the
// next renewal is no conflict), a lost one is written again; never does
// the holder take its own renewal for another owner's.
func TestLeaseRenewAnswerLost(t *testing.T) {
	ls, plain, f := faultyLeases(t)
	ctx := context.Background()
	a, err := ls.Acquire(ctx, "1", "bot", "replica-a", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for name, fault := range map[string]*atomic.Int32{"stored": &f.applied, "dropped": &f.dropped} {
		before, _, _ := plain.Holder(ctx, "1", "bot")
		fault.Store(1)
		if err := a.Renew(ctx); err != nil {
			t.Fatalf("Renew whose write was %s without an answer: %v", name, err)
		}
		if fault.Load() != 0 {
			t.Fatalf("%s: the fault was not hit", name)
		}
		after, ok, err := plain.Holder(ctx, "1", "bot")
		if err != nil || !ok || after.Owner != "replica-a" || !after.Renewed.After(before.Renewed) {
			t.Fatalf("%s: holder %+v %v %v after the renewal; want replica-a, renewed after %s", name, after, ok, err, before.Renewed)
		}
		if err := a.Renew(ctx); err != nil {
			t.Fatalf("%s: the next renewal: %v", name, err)
		}
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Acquire(ctx, "1", "bot", "replica-b", 5*time.Second); err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
}
