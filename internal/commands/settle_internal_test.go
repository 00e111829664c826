package commands

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestSettledAcksOrNaksWithTheOutcomesDelay(t *testing.T) {
	e := newStepEnv(t, noSessions{}, nil)
	ctx := context.Background()
	stream, err := ensureCommandStream(ctx, e.js, e.c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := e.js.CreateOrUpdateConsumer(ctx, e.c.cfg.StreamName, durableConsumerConfig(e.c.cfg, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.js.Publish(ctx, e.c.subjects.subject(kindDurable, stepAgent, AgentStatus), []byte(`{"status":"Away"}`)); err != nil {
		t.Fatal(err)
	}
	fetch := func(wait time.Duration) (jetstream.Msg, error) {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(wait))
		if err != nil {
			return nil, err
		}
		for m := range batch.Messages() {
			return m, nil
		}
		return nil, errors.New("no message")
	}
	pos := position{seq: 1, stored: time.Now().UnixNano()}
	skipKey := e.c.skipKey(pos)
	if err := e.c.results.skip(ctx, skipKey, pos); err != nil {
		t.Fatal(err)
	}
	skipped := func() uint64 {
		n, err := e.c.results.skipped(ctx, skipKey, pos)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	settle := func(m jetstream.Msg, out outcome) {
		d := e.delivery(modeDurable, AgentStatus, "settle-1")
		d.js, d.skipKey = m, skipKey
		e.c.settled((&stub{out: out}).step)(ctx, d)
	}

	m, err := fetch(stepWait)
	if err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	const delay = 500 * time.Millisecond
	naked := time.Now()
	settle(m, outcome{redeliver: true, delay: delay})
	m, err = fetch(stepWait)
	if err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if waited := time.Since(naked); waited < delay*8/10 {
		t.Errorf("redelivered after %v, want the outcome's delay %v", waited, delay)
	}
	if md, err := m.Metadata(); err != nil || md.NumDelivered != 2 {
		t.Errorf("redelivery metadata %+v (%v), want delivery 2", md, err)
	}
	if n := skipped(); n != 1 {
		t.Errorf("a nak dropped the skip count (%d)", n)
	}

	settle(m, outcome{final: true})
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Errorf("%d commands left in the work queue after the ack", info.State.Msgs)
	}
	if n := skipped(); n != 0 {
		t.Errorf("the skip count (%d) outlives the acked command", n)
	}
}
