package poller_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// TestOneMultiChatRequestPerTick: however many chats are open, a tick costs
// one incomingRequests and one multi-chat request (plus, every
// SessionSyncEvery ticks, chatSessions and availability); chats are read
// whole only once, when first seen.
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

	ring0, multi0, chat0, all0, sim0 := rc.ring.Load(), rc.multi.Load(), rc.chat.Load(), rc.all.Load(), e.sim.Requests()
	for i, c := range chats {
		e.visitorLine(c, fmt.Sprintf("line %d", i))
	}
	for i, c := range chats {
		waitLine(col, c, fmt.Sprintf("line %d", i))
	}
	const ticks = 20
	waitUntil(t, "ticks", func() string {
		if rc.ring.Load()-ring0 < ticks {
			return "waiting"
		}
		return ""
	})
	ring := rc.ring.Load() - ring0
	multi := rc.multi.Load() - multi0
	whole := rc.chat.Load() - chat0
	all := rc.all.Load() - all0
	simReqs := e.sim.Requests() - sim0
	t.Logf("%d ticks: %d multi-chat, %d whole-chat, %d requests in all (simulator saw %d)", ring, multi, whole, all, simReqs)
	if multi > ring+1 {
		t.Errorf("%d multi-chat requests in %d ticks, want at most one per tick", multi, ring)
	}
	if whole != 0 {
		t.Errorf("%d whole-chat reads in steady state, want 0", whole)
	}
	// incomingRequests + multi-chat each tick, chatSessions + availability
	// every 2nd tick (SessionSyncEvery 2): 3 per tick, whatever n is.
	if limit := 3*ring + 4; all > limit || simReqs > limit {
		t.Errorf("%d requests (simulator: %d) in %d ticks with %d chats, want at most %d", all, simReqs, ring, n, limit)
	}
}
