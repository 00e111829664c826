package poller_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// TestResyncRestoresPurgedChat ends a chat, purges its events from the
// stream (as an outage past the stream's age would lose them) and has
// Resync bring every one back: each line once, in order, the transcript,
// under Nats-Msg-Ids the duplicate window (which still holds the purged
// ids) does not drop, with seq numbers after the old ones. A second run
// finds everything present; a chat still polled is refused.
func TestResyncRestoresPurgedChat(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	w := e.worker(config(nil), nil, nil, nil)
	run(t, w)
	hist := events.NewChatHistory(e.js, events.DefaultStreamName, e.pub)

	chat := e.startChat(lpsim.VisitorSpec{Name: "Ada", SkillID: "31100810"})
	col.waitEvent(events.ChatState, chat, func(d any) bool { return d.(events.StateData).State == "chatting" })
	if _, err := w.Resync(ctx, chat, hist); !errors.Is(err, poller.ErrChatPolled) {
		t.Fatalf("Resync of a polled chat = %v, want ErrChatPolled", err)
	}
	e.visitorLine(chat, "hi, my order is late")
	col.waitEvent(events.ChatLine, chat, func(d any) bool { return d.(events.LineData).Text == "hi, my order is late" })
	if _, err := sessionOf(t, w).SendLine(ctx, chat, lpchat.Line{Text: "Let me check."}); err != nil {
		t.Fatalf("SendLine: %v", err)
	}
	col.waitEvent(events.ChatLine, chat, func(d any) bool { return d.(events.LineData).Text == "Let me check." })
	e.visitorLine(chat, "thanks, bye")
	if err := e.sim.VisitorEnd(acct, chat); err != nil {
		t.Fatalf("VisitorEnd: %v", err)
	}
	col.waitEvent(events.ChatTranscript, chat, nil)
	wantLines := col.chatLines(chat)
	var before []string
	var oldMax int64
	for _, g := range col.all() {
		if g.ChatID == chat {
			before = append(before, g.ID)
			oldMax = max(oldMax, g.Seq)
		}
	}

	// The poll loop retires the ended chat just after publishing it.
	var res poller.ResyncResult
	waitUntil(t, "resync of the ended chat", func() string {
		var err error
		if res, err = w.Resync(ctx, chat, hist); err != nil {
			return err.Error()
		}
		return ""
	})
	if res.Published != 0 || res.Present != len(before) {
		t.Fatalf("Resync with every event stored = %+v, want 0 published, %d present", res, len(before))
	}

	subj := "lp.evt." + acct + "." + token + ".chat." + events.Token(chat) + ".>"
	if err := e.stream.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
		t.Fatalf("Purge: %v", err)
	}
	res, err := w.Resync(ctx, chat, hist)
	if err != nil {
		t.Fatalf("Resync after purge: %v", err)
	}
	if res.Published != len(before) || res.Present != 0 {
		t.Fatalf("Resync after purge = %+v, want %d published, 0 present", res, len(before))
	}

	after := e.collect() // the stream from its start: of the chat, only what resync stored
	chatEvents := func() []string {
		var ids []string
		for _, g := range after.all() {
			if g.ChatID == chat {
				ids = append(ids, g.ID)
			}
		}
		return ids
	}
	waitUntil(t, "resynced events", func() string {
		if n := len(chatEvents()); n < len(before) {
			return fmt.Sprintf("%d of %d", n, len(before))
		}
		return ""
	})
	ids := chatEvents()
	for _, g := range after.all() {
		if g.ChatID != chat {
			continue
		}
		if g.Seq <= oldMax {
			t.Errorf("resynced %s has seq %d, want after the old %d", g.ID, g.Seq, oldMax)
		}
	}
	if !slices.Equal(ids, before) {
		t.Errorf("resynced ids = %v, want the original %v", ids, before)
	}
	if got := after.chatLines(chat); !slices.Equal(got, wantLines) {
		t.Errorf("resynced lines = %q, want %q", got, wantLines)
	}
	tr := after.of(events.ChatTranscript, chat)
	if len(tr) != 1 || len(tr[0].Data.(events.TranscriptData).Lines) != len(wantLines) {
		t.Fatalf("resynced transcripts = %+v, want one with %d lines", tr, len(wantLines))
	}
	m, err := e.stream.GetLastMsgForSubject(ctx, tr[0].Subject)
	if err != nil {
		t.Fatalf("GetLastMsgForSubject: %v", err)
	}
	if id := m.Header.Get(nats.MsgIdHdr); id != tr[0].ID+events.ResyncIDSuffix {
		t.Errorf("Nats-Msg-Id = %q, want %q", id, tr[0].ID+events.ResyncIDSuffix)
	}
	cur, _, err := e.store.Cursor(ctx, acct, token, chat)
	if err != nil {
		t.Fatalf("Cursor: %v", err)
	}
	if want := oldMax + int64(len(before)); cur.Seq != want || !cur.Done {
		t.Errorf("cursor = %+v, want seq %d and done", cur, want)
	}

	if res, err = w.Resync(ctx, chat, hist); err != nil || res.Published != 0 || res.Present != len(before) {
		t.Errorf("second Resync = %+v, %v; want 0 published, %d present", res, err, len(before))
	}
}
