package state

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/testwait"
	"github.com/nats-io/nats.go/jetstream"
)

// TestLeaseWithoutKeyTTL runs the fallback for servers without per-message
// TTLs (before NATS 2.11): the abandoned key stays, and Acquire takes it
// over once the expiry its holder recorded has passed.
func TestLeaseWithoutKeyTTL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, js := natstest.RunServer(t)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: DefaultLeaseBucket, History: 1, Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	ls := &Leases{js: js, kv: kv, cfg: LeasesConfig{Bucket: DefaultLeaseBucket}}
	a, err := ls.Acquire(ctx, "1", "bot", "replica-a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ls.Acquire(ctx, "1", "bot", "replica-b", time.Second); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("b's Acquire while a's record is fresh = %v, want ErrLeaseHeld", err)
	}
	var b *Lease
	testwait.Until(t, 10*time.Second, func() error {
		b, err = ls.Acquire(ctx, "1", "bot", "replica-b", time.Second)
		return err
	})
	rec, ok, err := ls.Holder(ctx, "1", "bot")
	if err != nil || !ok || rec.Owner != "replica-b" {
		t.Errorf("Holder = %+v %v %v, want replica-b", rec, ok, err)
	}
	if err := a.Renew(ctx); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("a's Renew = %v, want ErrLeaseLost", err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ls.Acquire(ctx, "1", "bot", "replica-a", time.Second); err != nil {
		t.Errorf("Acquire after release: %v", err)
	}
}
