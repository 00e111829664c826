package commands

import (
	"context"
	"testing"

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
