package jsretry_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/jsretry"
	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/telemetry/telemetrytest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		err            error
		unavail, ambig bool
	}{
		{nil, false, false},
		{errors.New("boom"), false, false},
		{fmt.Errorf("wrapped: %w", nats.ErrNoResponders), true, false},
		{jetstream.ErrNoStreamResponse, true, false},
		{jetstream.ErrJetStreamNotEnabled, true, false},
		{&jetstream.APIError{ErrorCode: 10008, Code: 503}, true, false},
		{&jetstream.APIError{ErrorCode: 10023, Code: 503}, true, false},
		{&jetstream.APIError{ErrorCode: 10163, Code: 503}, true, false},
		{&jetstream.APIError{ErrorCode: 10071, Code: 400}, false, false}, // wrong last sequence: a real conflict
		{&jetstream.APIError{ErrorCode: 10074, Code: 500}, false, false}, // replicas > 1 on one server: config
		{context.DeadlineExceeded, true, true},
		{nats.ErrTimeout, true, true},
	} {
		if got := jsretry.Unavailable(ctx, tc.err); got != tc.unavail {
			t.Errorf("Unavailable(%v) = %v, want %v", tc.err, got, tc.unavail)
		}
		if got := jsretry.Ambiguous(tc.err); got != tc.ambig {
			t.Errorf("Ambiguous(%v) = %v, want %v", tc.err, got, tc.ambig)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if jsretry.Unavailable(done, context.Canceled) || jsretry.Unavailable(done, nats.ErrNoResponders) {
		t.Error("an error after the caller's context ended is not a reason to retry")
	}
}

func TestWait(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: jsretry.MinWait, 2: 2 * jsretry.MinWait, 100: jsretry.MaxWait} {
		if got := jsretry.Wait(attempt); got < want || got > want+want/4 {
			t.Errorf("Wait(%d) = %s, want %s plus at most 20%%", attempt, got, want)
		}
	}
}

func TestDo(t *testing.T) {
	ctx := context.Background()
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics())
	r := jsretry.Reporter{Logger: slog.New(slog.DiscardHandler), Metrics: m}
	n := 0
	err := jsretry.Do(ctx, r, telemetry.JetStreamKV, "op", func(context.Context) error {
		if n++; n < 3 {
			return nats.ErrNoResponders
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("Do = %v after %d attempts; want nil after 3", err, n)
	}
	if got := telemetrytest.Value(t, m, "lpbridge_jetstream_retries_total", map[string]string{"op": "kv"}); got != 2 {
		t.Errorf("kv retries counted = %v, want 2", got)
	}
	refused := errors.New("refused")
	n = 0
	if err := jsretry.Do(ctx, r, telemetry.JetStreamKV, "op", func(context.Context) error { n++; return refused }); !errors.Is(err, refused) || n != 1 {
		t.Errorf("Do = %v after %d attempts; want the refusal after 1", err, n)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err = jsretry.Do(short, r, telemetry.JetStreamCreate, "create stream X", func(context.Context) error { return nats.ErrNoResponders })
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("Do after ctx ended = %v; want ctx's error and the last one", err)
	}
}
