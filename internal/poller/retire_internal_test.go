package poller

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// TestChatTakenBackWhileRetiring: a chat that left the agent (its session
// reaped, the chat requeued) is retiring until its last cursor is saved;
// accepted again by a command before that save succeeds, it is polled
// again once saved (a chaos run found it put aside for good), and a line
// after the accept is published.
func TestChatTakenBackWhileRetiring(t *testing.T) {
	r := newTickRig(t, 1, false, nil)
	ctx := context.Background()
	chat := r.chats[0]
	r.w.cfg.Agent.AutoAccept = false // the command takes it back
	store := &failingStore{Store: r.w.store, chat: chat}
	r.w.store = store
	pub := &failingPublisher{inner: r.w.pub}
	r.w.pub = pub

	// Seen in chatSessions and saved: a chat the agent holds for good.
	tickUntil(t, r, r.as, "the chat listed and saved", func() bool {
		c := r.w.chats[chat]
		return c.listed && !c.unsaved
	})
	if err := r.sim.ExpireAgentSession(r.acct, r.w.cfg.Agent.LoginName); err != nil {
		t.Fatal(err)
	}
	if err := r.w.tick(ctx, r.as, false); !sessionGone(err) {
		t.Fatalf("tick on the reaped session: %v, want it gone", err)
	}
	as, err := r.w.establish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store.failing.Store(true)
	// The requeued chat is no longer the agent's: it retires, and its
	// cursor cannot be saved yet.
	tickUntil(t, r, as, "the chat retiring", func() bool {
		c := r.w.chats[chat]
		return c != nil && c.retiring
	})

	// The command accepts it while it still retires.
	if id, err := as.AcceptVerified(ctx, r.w.knows); err != nil || id != chat {
		t.Fatalf("accept: %q, %v; want %s", id, err, chat)
	}
	r.w.Track(chat)
	if err := r.w.tick(ctx, as, false); !errors.Is(err, errInjected) {
		t.Fatalf("tick with the failing save: %v", err)
	}
	if c := r.w.chats[chat]; c == nil || !c.takenBack {
		t.Fatalf("chat %+v, want it retiring and taken back", c)
	}

	store.failing.Store(false)
	mark := len(pub.calls)
	tickUntil(t, r, as, "chat.accepted published again", func() bool {
		return publishedAfter(pub, mark, chat, events.ChatAccepted) > 0
	})
	if _, ok := r.w.ignored[chat]; ok {
		t.Errorf("chat %s put aside, want it polled", chat)
	}
	if _, err := r.sim.VisitorLine(r.acct, chat, "after the accept"); err != nil {
		t.Fatal(err)
	}
	tickUntil(t, r, as, "the line after the accept", func() bool {
		return publishedAfter(pub, mark, chat, events.ChatLine) > 0
	})
}

// tickUntil ticks the worker until done holds, failing after 40 ticks.
// Tick errors are tolerated (an injected failure is expected to repeat).
func tickUntil(t *testing.T, r *tickRig, as *lpchat.AgentSession, what string, done func() bool) {
	t.Helper()
	for i := range 40 {
		if err := r.w.tick(context.Background(), as, i%r.w.cfg.SessionSyncEvery == 0); sessionGone(err) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if done() {
			return
		}
	}
	t.Fatalf("no %s after 40 ticks", what)
}

// publishedAfter counts the events of type typ of chat in the calls from
// the n-th on.
func publishedAfter(p *failingPublisher, n int, chat string, typ events.Type) int {
	count := 0
	for _, evs := range p.calls[n:] {
		count += len(slices.DeleteFunc(slices.Clone(evs), func(e events.Event) bool {
			return e.ChatID != chat || e.Type != typ
		}))
	}
	return count
}
