package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// resyncResult is chat.resync's result.
type resyncResult struct {
	Published int `json:"published"`
	Present   int `json:"present"`
}

// TestE2EResyncAfterPurge loses an ended chat's events from the stream (a
// purge, as an outage past the stream's age would) and brings them back
// with chat.resync through the whole bridge: every line once and in order,
// the transcript, the original ids under Nats-Msg-Id "<id>/resync" (the
// duplicate window still holds the purged ids); a second chat.resync
// publishes nothing; a chat still polled is refused with bad_request.
func TestE2EResyncAfterPurge(t *testing.T) {
	const pw = "resync-pw-one"
	ctx := context.Background()
	sim, simURL := startSim(t, simOptions{seed: 23, agents: e2eAgents(pw, "resync-pw-two")})
	ns, nc, js := natstest.RunServer(t)
	setBridgeEnv(t, bridgeVars(ns.ClientURL(), simURL, botOne, pw))
	b := startBridge(t)
	col := collectEvents(t, b, js)
	c := newCommander(t, b, nc)

	chat := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Ada", SkillID: skillSupport})
	col.waitFor(t, b, "chat.accepted", func(r received) bool { return r.is(events.ChatAccepted, chat) })
	wantError(t, "chat.resync of a polled chat", c.request(botOneToken, commands.ChatResync, "resync-live", map[string]any{"chatId": chat}), commands.CodeBadRequest)

	okResult[map[string]any](t, "chat.send", c.request(botOneToken, commands.ChatSend, "send-1", map[string]any{"chatId": chat, "text": "Hello Ada"}))
	if _, err := sim.VisitorLine(e2eAccount, chat, "where is my parcel?"); err != nil {
		t.Fatalf("VisitorLine: %v", err)
	}
	col.waitFor(t, b, "the visitor's line", func(r received) bool {
		return r.is(events.ChatLine, chat) && r.str("text") == "where is my parcel?"
	})
	if err := sim.VisitorEnd(e2eAccount, chat); err != nil {
		t.Fatalf("VisitorEnd: %v", err)
	}
	col.waitFor(t, b, "chat.transcript", func(r received) bool { return r.is(events.ChatTranscript, chat) })
	ofChat := func(r received) bool { return r.DecodeErr == nil && r.Chat == chat }
	before := col.match(ofChat)
	wantLines := resyncLines(t, before)

	// The poller retires the ended chat just after its transcript.
	var res resyncResult
	try := 0
	waitUntil(t, b, "chat.resync of the ended chat", func() error {
		try++
		r := c.request(botOneToken, commands.ChatResync, fmt.Sprintf("resync-ended-%d", try), map[string]any{"chatId": chat})
		if !r.OK {
			return fmt.Errorf("%+v", r.Error)
		}
		res = okResult[resyncResult](t, "chat.resync", r)
		return nil
	})
	if res != (resyncResult{Present: len(before)}) {
		t.Fatalf("chat.resync with every event stored = %+v, want 0 published, %d present", res, len(before))
	}

	stream, err := js.Stream(ctx, e2eStream)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if err := stream.Purge(ctx, jetstream.WithPurgeSubject("lp.evt."+e2eAccount+"."+botOneToken+".chat."+events.Token(chat)+".>")); err != nil {
		t.Fatalf("purge: %v", err)
	}
	res = okResult[resyncResult](t, "chat.resync after the purge",
		c.request(botOneToken, commands.ChatResync, "resync-purged", map[string]any{"chatId": chat}))
	if res != (resyncResult{Published: len(before)}) {
		t.Fatalf("chat.resync after the purge = %+v, want %d published, 0 present", res, len(before))
	}

	after := collectEvents(t, b, js) // from the stream's start: of the chat, only what resync stored
	waitUntil(t, b, "the resynced events", func() error {
		if n := len(after.match(ofChat)); n < len(before) {
			return fmt.Errorf("%d of %d", n, len(before))
		}
		return nil
	})
	back := after.match(ofChat)
	var ids, wantIDs []string
	for i, r := range back {
		ids, wantIDs = append(ids, r.CE.ID()), append(wantIDs, before[i].CE.ID())
		if r.MsgID != r.CE.ID()+events.ResyncIDSuffix {
			t.Errorf("%v: Nats-Msg-Id %q, want %q", r, r.MsgID, r.CE.ID()+events.ResyncIDSuffix)
		}
	}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("resynced ids = %v, want the originals %v", ids, wantIDs)
	}
	if got := resyncLines(t, back); !slices.Equal(got, wantLines) {
		t.Errorf("resynced lines = %q, want %q", got, wantLines)
	}
	tr := after.match(func(r received) bool { return r.is(events.ChatTranscript, chat) })
	if len(tr) != 1 {
		t.Fatalf("%d transcripts after resync, want 1", len(tr))
	}
	checkTranscript(t, tr[0], chat, []string{"Hello Ada", "where is my parcel?"})

	res = okResult[resyncResult](t, "chat.resync again",
		c.request(botOneToken, commands.ChatResync, "resync-again", map[string]any{"chatId": chat}))
	if res != (resyncResult{Present: len(before)}) {
		t.Errorf("chat.resync again = %+v, want 0 published, %d present", res, len(before))
	}
	c.checkResults(after)
}

// TestE2EResyncChatGone: a service that no longer lets the agent read an
// ended chat (410 on GET chat) makes chat.resync fail with chat_not_found,
// a final code, and publishes nothing.
func TestE2EResyncChatGone(t *testing.T) {
	const pw = "resync-pw-gone"
	var gone atomic.Pointer[string]
	wrap := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id := gone.Load(); id != nil && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/chat/"+*id) {
				http.Error(w, "chat is gone", http.StatusGone)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	sim, simURL := startSim(t, simOptions{seed: 29, agents: e2eAgents(pw, "resync-pw-two"), wrap: wrap})
	ns, nc, js := natstest.RunServer(t)
	setBridgeEnv(t, bridgeVars(ns.ClientURL(), simURL, botOne, pw))
	b := startBridge(t)
	col := collectEvents(t, b, js)
	c := newCommander(t, b, nc)

	chat := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Bo", SkillID: skillSupport})
	col.waitFor(t, b, "chat.accepted", func(r received) bool { return r.is(events.ChatAccepted, chat) })
	if err := sim.VisitorEnd(e2eAccount, chat); err != nil {
		t.Fatalf("VisitorEnd: %v", err)
	}
	col.waitFor(t, b, "chat.transcript", func(r received) bool { return r.is(events.ChatTranscript, chat) })
	gone.Store(&chat)
	n := col.count()
	try := 0
	waitUntil(t, b, "chat.resync of the gone chat refused as chat_not_found", func() error {
		try++
		r := c.request(botOneToken, commands.ChatResync, fmt.Sprintf("resync-gone-%d", try), map[string]any{"chatId": chat})
		if r.OK || r.Error == nil || r.Error.Code != string(commands.CodeChatNotFound) {
			return fmt.Errorf("reply ok=%v error=%+v", r.OK, r.Error)
		}
		return nil
	})
	for _, r := range col.all()[n:] {
		if r.Chat == chat {
			t.Errorf("chat.resync of a gone chat published %v", r)
		}
	}
}

// resyncLines is the texts of the chat.line events of evs, failing when a
// service event id comes twice or out of order.
func resyncLines(t *testing.T, evs []received) []string {
	t.Helper()
	var texts []string
	last := -1
	for _, r := range evs {
		if r.Type != events.ChatLine {
			continue
		}
		id, err := strconv.Atoi(r.str("eventId"))
		if err != nil || id <= last {
			t.Errorf("line event %q after %d: doubled, out of order or no id", r.str("eventId"), last)
		}
		last = id
		texts = append(texts, r.str("text"))
	}
	return texts
}
