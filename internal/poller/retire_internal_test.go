package poller

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/state"
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
	held(t, r, chat)
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
		for _, e := range evs {
			if e.ChatID == chat && e.Type == typ {
				count++
			}
		}
	}
	return count
}

// held ticks until the rig's worker holds chat for good: listed in
// chatSessions, its cursor saved, the agent's own id known.
func held(t *testing.T, r *tickRig, chat string) {
	t.Helper()
	tickUntil(t, r, r.as, "the chat listed and saved", func() bool {
		c := r.w.chats[chat]
		return c.listed && !c.unsaved && r.w.ownID != ""
	})
}

// requeuedToTwo reaps the rig agent's session, so that chat is requeued;
// bench.two, Online, accepts it and the visitor says "hello bench two".
func requeuedToTwo(t *testing.T, r *tickRig, chat string) {
	t.Helper()
	two := onlineAgent(t, r, "bench.two")
	if err := r.sim.ExpireAgentSession(r.acct, r.w.cfg.Agent.LoginName); err != nil {
		t.Fatal(err)
	}
	if _, err := two.AcceptVerified(context.Background(), func(string) bool { return false }); err != nil {
		t.Fatalf("bench.two accept: %v", err)
	}
	if _, err := r.sim.VisitorLine(r.acct, chat, "hello bench two"); err != nil {
		t.Fatal(err)
	}
}

// TestChatTakenByAnotherAgentBetweenSyncs: the agent session is reaped and
// its chat requeued to another agent, who takes it. Until the next
// chatSessions read says the chat is no longer this agent's, only the
// multi-chat poll sees it: its info names the other agent and a chatting
// state says they took it. The worker reports the chat transferred there,
// and publishes nothing of the other agent's conversation (a chaos run saw
// it on the old agent's subjects, and the old agent's late chat.accepted
// sent the bot's answers there).
func TestChatTakenByAnotherAgentBetweenSyncs(t *testing.T) {
	r := newTickRig(t, 1, false, nil)
	ctx := context.Background()
	chat := r.chats[0]
	r.w.cfg.Agent.AutoAccept = false
	pub := &failingPublisher{inner: r.w.pub}
	r.w.pub = pub
	held(t, r, chat)
	requeuedToTwo(t, r, chat)
	if err := r.w.tick(ctx, r.as, false); !sessionGone(err) {
		t.Fatalf("tick on the reaped session: %v, want it gone", err)
	}
	as, err := r.w.establish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.w.sessionsOwed = false // between two chatSessions reads: the poll alone sees the move
	mark := len(pub.calls)
	for range 3 {
		if err := r.w.tick(ctx, as, false); err != nil {
			t.Fatalf("tick: %v", err)
		}
	}
	if n := publishedAfter(pub, mark, chat, events.ChatTransferred); n != 1 {
		t.Errorf("%d chat.transferred, want 1", n)
	}
	for _, evs := range pub.calls[mark:] {
		for _, e := range evs {
			if l, ok := e.Data.(events.LineData); ok && e.ChatID == chat && (l.Text == "hello bench two" || strings.Contains(l.Text, "Bench Two")) {
				t.Errorf("published %q of bench.two's conversation for bench.bot", l.Text)
			}
			if e.ChatID == chat && e.Type == events.ChatState && e.Data.(events.StateData).State == "chatting" {
				t.Errorf("published bench.two's chatting state for bench.bot")
			}
		}
	}
	if c := r.w.chats[chat]; c != nil {
		t.Errorf("chat still polled: %+v", c)
	}
}

// onlineAgent adds an agent to the rig's account, logs it in with its own
// client and sets it Online.
func onlineAgent(t *testing.T, r *tickRig, login string) *lpchat.AgentSession {
	t.Helper()
	ctx := context.Background()
	if err := r.sim.AddAgent(r.acct, lpsim.AgentSpec{LoginName: login, Password: "pw", Nickname: "Bench Two"}); err != nil {
		t.Fatal(err)
	}
	c, err := lpchat.New(lpchat.Config{DomainURL: r.url, AllowInsecureHTTP: true, Account: r.acct})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, lpchat.Credentials{Username: login, Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	as, err := c.StartAgentSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.SetAvailability(ctx, lpchat.Online); err != nil {
		t.Fatal(err)
	}
	return as
}

// TestChatAcceptedBeforeACrashAndTakenSince: the worker accepted a chat
// and died before any of its events went out (no cursor; the agent state
// lists the chat). The session is reaped, the chat requeued to bench.two,
// who talks with the visitor. The next worker resumes the chat from its
// start: it publishes bench.bot's part and chat.transferred, not
// bench.two's conversation (a chaos run saw that, with a transcript).
func TestChatAcceptedBeforeACrashAndTakenSince(t *testing.T) {
	r := newTickRig(t, 1, false, nil)
	ctx := context.Background()
	chat := r.chats[0]
	held(t, r, chat)
	if err := r.w.store.(*state.Store).DeleteCursor(ctx, r.acct, r.w.cfg.Agent.Token, chat); err != nil {
		t.Fatal(err)
	}
	requeuedToTwo(t, r, chat)
	if err := r.sim.VisitorEnd(r.acct, chat); err != nil {
		t.Fatal(err)
	}

	w, err := New(r.w.cfg, r.w.client, r.w.pub, r.w.store, nil) // the next process
	if err != nil {
		t.Fatal(err)
	}
	pub := &failingPublisher{inner: r.w.pub}
	w.pub = pub
	if err := w.load(ctx); err != nil {
		t.Fatal(err)
	}
	as, err := w.establish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.ownID = r.w.ownID
	w.sessionsOwed = false // the poll reads it before a chatSessions read says it left
	for range 3 {
		if err := w.tick(ctx, as, false); err != nil {
			t.Fatalf("tick: %v", err)
		}
	}
	if publishedAfter(pub, 0, chat, events.ChatAccepted) != 1 || publishedAfter(pub, 0, chat, events.ChatTransferred) != 1 {
		t.Errorf("accepted %d, transferred %d times; want once each", publishedAfter(pub, 0, chat, events.ChatAccepted), publishedAfter(pub, 0, chat, events.ChatTransferred))
	}
	for _, typ := range []events.Type{events.ChatEnded, events.ChatTranscript} {
		if n := publishedAfter(pub, 0, chat, typ); n != 0 {
			t.Errorf("%d %s of a chat that ended with bench.two", n, typ)
		}
	}
	for _, evs := range pub.calls {
		for _, e := range evs {
			if l, ok := e.Data.(events.LineData); ok && e.ChatID == chat && l.Text == "hello bench two" {
				t.Error("published bench.two's conversation for bench.bot")
			}
		}
	}
}
