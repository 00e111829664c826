package poller_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// TestOneMultiChatRequestPerTick: however many chats are open, a tick costs
// one multi-chat request and one read of the agent (incomingRequests or, in
// its place every SessionSyncEvery ticks, chatSessions or availability);
// chats are read whole only once, when first seen.
func TestOneMultiChatRequestPerTick(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	rc := &requestCounter{}
	client := e.client(func(rt http.RoundTripper) http.RoundTripper { rc.inner = rt; return rc })
	w := e.worker(config(nil), client, nil, nil)
	run(t, w)
	col.waitEvent(events.AgentStatus, "", func(d any) bool { return d.(events.StatusData).Status == "Online" })

	const n = 6
	var chats []string
	for i := range n {
		chats = append(chats, e.startChat(lpsim.VisitorSpec{Name: fmt.Sprintf("visitor %d", i)}))
	}
	for _, c := range chats {
		col.waitEvent(events.ChatInfo, c, nil)
	}
	col.waitEvent(events.AgentRinging, "", func(d any) bool { return d.(events.RingingData).Count == 0 })

	ticks0, multi0, chat0, all0, sim0 := rc.ticks(), rc.multi.Load(), rc.chat.Load(), rc.all.Load(), e.sim.Requests()
	for i, c := range chats {
		e.visitorLine(c, fmt.Sprintf("line %d", i))
	}
	for i, c := range chats {
		waitLine(col, c, fmt.Sprintf("line %d", i))
	}
	const ticks = 20
	waitUntil(t, "ticks", func() string {
		if rc.ticks()-ticks0 < ticks {
			return "waiting"
		}
		return ""
	})
	ran := rc.ticks() - ticks0
	multi := rc.multi.Load() - multi0
	whole := rc.chat.Load() - chat0
	all := rc.all.Load() - all0
	simReqs := e.sim.Requests() - sim0
	t.Logf("%d ticks: %d multi-chat, %d whole-chat, %d requests in all (simulator saw %d)", ran, multi, whole, all, simReqs)
	if multi > ran+1 {
		t.Errorf("%d multi-chat requests in %d ticks, want at most one per tick", multi, ran)
	}
	if whole != 0 {
		t.Errorf("%d whole-chat reads in steady state, want 0", whole)
	}
	// incomingRequests (or a sync read in its place) + multi-chat each
	// tick: 2 per tick, whatever n is (+2 for a tick in flight at either end).
	if limit := 2*ran + 2; all > limit || simReqs > limit {
		t.Errorf("%d requests (simulator: %d) in %d ticks with %d chats, want at most %d", all, simReqs, ran, n, limit)
	}
}
