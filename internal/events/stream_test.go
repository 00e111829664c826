package events_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/testwait"
	"github.com/nats-io/nats.go/jetstream"
)

// clusterWait bounds the waits of the cluster test: elections take
// seconds, more on a loaded machine under -race.
const clusterWait = 45 * time.Second

// lockedBuffer is a log sink EnsureStream writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// TestEnsureStreamWaitsForTheCluster: with two of three nodes down an R3
// stream cannot be placed; EnsureStream keeps trying, logging why, and
// creates it once the nodes are back, instead of failing the bridge's
// start.
func TestEnsureStreamWaitsForTheCluster(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	c.Shutdown(1)
	c.Shutdown(2)
	_, js := c.Connect(t)
	logs := &lockedBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*clusterWait)
	defer cancel()
	type result struct {
		st  jetstream.Stream
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := events.EnsureStream(ctx, js, events.StreamConfig{
			Replicas: 3, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		})
		done <- result{st, err}
	}()
	testwait.Until(t, clusterWait, func() error {
		select {
		case r := <-done:
			t.Fatalf("EnsureStream returned (%v) while two of three nodes are down", r.err)
		default:
		}
		if !strings.Contains(logs.String(), "jetstream not ready; retrying") || !strings.Contains(logs.String(), events.DefaultStreamName) {
			return errors.New("no retry logged yet")
		}
		return nil
	})
	c.Restart(1)
	c.Restart(2)
	var r result
	select {
	case r = <-done:
	case <-time.After(2 * clusterWait):
		t.Fatal("EnsureStream did not return once the cluster was whole again")
	}
	if r.err != nil {
		t.Fatalf("EnsureStream: %v", r.err)
	}
	if n := r.st.CachedInfo().Config.Replicas; n != 3 {
		t.Errorf("stream replicas = %d, want 3", n)
	}
}

// TestEnsureStreamRefusalIsNotRetried: a request JetStream refuses for
// good (R3 on a single server) fails at once instead of waiting.
func TestEnsureStreamRefusalIsNotRetried(t *testing.T) {
	_, _, js := natstest.RunServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	start := time.Now()
	_, err := events.EnsureStream(ctx, js, events.StreamConfig{Replicas: 3, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("R3 stream created on a single server")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("refusal took %s; want it at once, not retried", d)
	}
}
