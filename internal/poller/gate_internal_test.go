package poller

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestStartGateLetsNThrough(t *testing.T) {
	g := NewStartGate(2)
	ctx := context.Background()
	stop := make(chan struct{})
	leaveA, err := g.enter(ctx, stop)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.enter(ctx, stop); err != nil {
		t.Fatal(err)
	}
	third := make(chan error, 1)
	go func() {
		leave, err := g.enter(ctx, stop)
		if err == nil {
			leave()
		}
		third <- err
	}()
	select {
	case err := <-third:
		t.Fatalf("a third worker entered a gate of 2 (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	leaveA()
	select {
	case err := <-third:
		if err != nil {
			t.Fatalf("the third worker: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("the third worker did not enter after a slot was given back")
	}

	// Full: a stopped worker and a cancelled one give up waiting.
	full := NewStartGate(1)
	if _, err := full.enter(ctx, stop); err != nil {
		t.Fatal(err)
	}
	close(stop)
	if _, err := full.enter(ctx, stop); !errors.Is(err, errStopped) {
		t.Errorf("stopped while waiting: %v, want errStopped", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := full.enter(cctx, make(chan struct{})); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while waiting: %v, want context.Canceled", err)
	}

	var none *StartGate // NewStartGate(0)
	if NewStartGate(0) != nil {
		t.Error("NewStartGate(0) bounds something")
	}
	for range 3 {
		if _, err := none.enter(ctx, stop); err != nil {
			t.Fatalf("no gate: %v", err)
		}
	}
}
