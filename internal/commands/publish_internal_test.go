package commands

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
)

func TestPublishedSkipsDeliveriesHandedBack(t *testing.T) {
	e := newStepEnv(t, noSessions{}, nil)
	results := subscribe(t, e.nc, "lp.evt."+stepAccount+"."+stepAgent+".command.result")
	ctx := context.Background()

	// Handed back for a later try: no result yet.
	d := e.delivery(modeDurable, AgentStatus, "pub-1")
	retry := failure(d.cmd, failf(CodeUpstreamError, "503"), 1)
	retry.redeliver = true
	e.c.published((&stub{out: retry}).step)(ctx, d)
	// Settled: its result. Published after the first on the same
	// connection, it would arrive second had the first been published.
	d = e.delivery(modeDurable, AgentStatus, "pub-2")
	e.c.published((&stub{out: failure(d.cmd, failf(CodeChatNotFound, "gone"), 2)}).step)(ctx, d)

	ce, err := events.Decode(receive(t, results))
	if err != nil {
		t.Fatalf("command.result: %v", err)
	}
	ev, err := events.FromCloudEvent(ce)
	if err != nil {
		t.Fatalf("command.result: %v", err)
	}
	data := ev.Data.(events.CommandResultData)
	if data.CommandID != "pub-2" || data.OK || data.Error.Code != string(CodeChatNotFound) || data.Command != AgentStatus {
		t.Errorf("first command.result %+v, want pub-2's chat_not_found (pub-1 was handed back)", data)
	}
}

// flakyPublisher answers "no response from stream" (a stream electing a
// leader) to its first fails publishes, then publishes.
type flakyPublisher struct {
	next  Publisher
	fails int
	calls int
}

func (p *flakyPublisher) Publish(ctx context.Context, evs ...events.Event) error {
	p.calls++
	if p.calls <= p.fails {
		return jetstream.ErrNoStreamResponse
	}
	return p.next.Publish(ctx, evs...)
}

func TestPublishedRetriesWhileTheStreamElects(t *testing.T) {
	e := newStepEnv(t, noSessions{}, nil)
	results := subscribe(t, e.nc, "lp.evt."+stepAccount+"."+stepAgent+".command.result")
	flaky := &flakyPublisher{next: e.c.pub, fails: 2}
	e.c.pub = flaky

	// A durable command's only outcome is this event: not lost to an
	// election of the event stream's leader.
	d := e.delivery(modeDurable, AgentStatus, "pub-elect")
	e.c.published((&stub{out: failure(d.cmd, failf(CodeChatNotFound, "gone"), 1)}).step)(context.Background(), d)

	ce, err := events.Decode(receive(t, results))
	if err != nil {
		t.Fatalf("command.result: %v", err)
	}
	if ce.ID() == "" || flaky.calls != 3 {
		t.Errorf("command.result %q after %d publishes; want it after 3 (two refused)", ce.ID(), flaky.calls)
	}
}
