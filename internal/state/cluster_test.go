package state_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/state"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// clusterWait bounds the waits of the cluster tests: elections take
// seconds, more on a loaded machine under -race.
const clusterWait = 45 * time.Second

// lockedBuffer is a log sink the code under test writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestOpenWaitsForTheCluster: a bridge started while two of three nodes
// are down cannot create R3 buckets yet; Open waits, saying so in the log,
// and succeeds once the nodes are back, instead of failing the start.
func TestOpenWaitsForTheCluster(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	c.Shutdown(1)
	c.Shutdown(2)
	_, js := c.Connect(t)
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*clusterWait)
	defer cancel()
	type opened struct {
		s   *state.Store
		err error
	}
	done := make(chan opened, 1)
	go func() {
		s, err := state.Open(ctx, js, state.Config{Replicas: 3, Logger: logger})
		done <- opened{s, err}
	}()
	testwait.Until(t, clusterWait, func() error {
		select {
		case o := <-done:
			t.Fatalf("Open returned (%v) while two of three nodes are down", o.err)
		default:
		}
		if !strings.Contains(logs.String(), "jetstream not ready; retrying") {
			return errors.New("no retry logged yet")
		}
		return nil
	})
	c.Restart(1)
	c.Restart(2)
	var o opened
	select {
	case o = <-done:
	case <-time.After(2 * clusterWait):
		t.Fatal("Open did not return once the cluster was whole again")
	}
	if o.err != nil {
		t.Fatalf("Open: %v", o.err)
	}
	want := state.NewCursor()
	want.LastEventID = 7
	if err := o.s.SaveCursor(ctx, acct, agent, "c1", want); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := o.s.Cursor(ctx, acct, agent, "c1"); err != nil || !ok || got != want {
		t.Errorf("cursor = %+v %v %v; want %+v", got, ok, err, want)
	}
}

// TestLeaseThroughLeaderLoss: the node leading the lease bucket goes away
// while replica A holds the lease and replica B keeps trying to take it.
// A's renewals wait out the election (typed errors meanwhile, never "lost"
// while its TTL holds), B never gets the lease, and the cursor written
// through the election is there afterwards.
func TestLeaseThroughLeaderLoss(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	_, js := c.Connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*clusterWait)
	defer cancel()
	ls, err := state.OpenLeases(ctx, js, state.LeasesConfig{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Long enough to outlast an election on a loaded machine: the test is
	// about not losing the lease, not about it expiring.
	const ttl = 20 * time.Second
	a, err := ls.Acquire(ctx, acct, agent, "replica-a", ttl)
	if err != nil {
		t.Fatal(err)
	}
	leader := c.WaitStreamLeader(t, "KV_"+ls.Bucket())
	c.Shutdown(leader)

	stop := make(chan struct{})
	var bErr error
	bDone := make(chan struct{})
	go func() {
		defer close(bDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			actx, cancel := context.WithTimeout(ctx, 2*time.Second)
			l, err := ls.Acquire(actx, acct, agent, "replica-b", ttl)
			cancel()
			if err == nil {
				bErr = errors.New("replica B acquired the lease replica A holds")
				_ = l.Release(ctx)
				return
			}
		}
	}()
	renewed := 0
	var typed []error
	testwait.Until(t, clusterWait, func() error {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := a.Renew(rctx)
		cancel()
		switch {
		case errors.Is(err, state.ErrLeaseLost):
			t.Fatalf("renew during the election: %v", err)
		case err != nil:
			typed = append(typed, err)
			return err
		}
		if renewed++; renewed < 3 {
			return errors.New("renewed fewer than 3 times since the leader went")
		}
		return nil
	})
	close(stop)
	<-bDone
	if bErr != nil {
		t.Fatal(bErr)
	}
	for _, err := range typed {
		if !errors.Is(err, state.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("renew failed with an untyped error: %v", err)
		}
	}
	t.Logf("leader %s shut down; %d renewals failed meanwhile", c.Name(leader), len(typed))
	c.Restart(leader)
	if rec, ok, err := ls.Holder(ctx, acct, agent); err != nil || !ok || rec.Owner != "replica-a" {
		t.Errorf("holder after the election = %+v %v %v; want replica-a", rec, ok, err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := ls.Acquire(ctx, acct, agent, "replica-b", ttl)
	if err != nil {
		t.Fatalf("Acquire after A released: %v", err)
	}
	_ = b.Release(ctx)
}

// TestOpenTogether: replicas that start together create the same new R3
// buckets at once. The server answers neither request (nats-server 2.15),
// so an attempt that waited for the caller's context would hang; with
// bounded attempts the retry finds the bucket made and both open.
func TestOpenTogether(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		_, js := c.Connect(t)
		wg.Go(func() {
			if _, err := state.Open(ctx, js, state.Config{Replicas: 3, Logger: slog.New(slog.DiscardHandler)}); err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = state.OpenLeases(ctx, js, state.LeasesConfig{Replicas: 3, Logger: slog.New(slog.DiscardHandler)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}
