package poller_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/state"
)

// TestTransferOut: the agent transfers a chat to another skill; the worker
// reports chat.transferred once and stops following the chat, so the next
// agent's conversation never appears on this agent's subjects.
func TestTransferOut(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	w := e.worker(config(nil), nil, nil, nil)
	run(t, w)
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "I was charged twice")
	waitLine(col, chat, "I was charged twice")

	// bot.two is Online in Billing.
	ctx := context.Background()
	as2 := e.onlineAgent(t, loginTwo)

	as := sessionOf(t, w)
	if err := as.Transfer(ctx, chat, lpchat.Transfer{SkillID: skillBilling, Text: "refund please"}); err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	tr := col.waitEvent(events.ChatTransferred, chat, nil).Data.(events.TransferredData)
	lines := col.of(events.ChatLine, chat)
	last := lines[len(lines)-1].Data.(events.LineData)
	if last.SystemMessageID != 15 || tr.EventID != last.EventID {
		t.Errorf("transferred %+v after line %+v; want it to point at the transfer system line #15", tr, last)
	}

	// bot.two takes the chat and talks with the visitor.
	acceptRinging(t, as2, "bot.two")
	e.visitorLine(chat, "hello bot two")
	polls := e.sim.Requests()
	waitUntil(t, "more ticks", func() string {
		if e.sim.Requests() < polls+12 {
			return "waiting"
		}
		return ""
	})
	if slices.Contains(col.chatLines(chat), "hello bot two") {
		t.Errorf("a line of bot.two's conversation was published for bot.one")
	}
	if n := len(col.of(events.ChatTransferred, chat)); n != 1 {
		t.Errorf("%d transferred events, want 1", n)
	}
	checkStream(t, col.all())
}

// renamer rewrites the visitor's name in every answer of the service once
// on is set: the visitor told the agent their name mid-chat.
type renamer struct {
	next     http.Handler
	on       atomic.Bool
	from, to []byte
}

func (r *renamer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !r.on.Load() {
		r.next.ServeHTTP(w, req)
		return
	}
	rec := httptest.NewRecorder()
	r.next.ServeHTTP(rec, req)
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(bytes.ReplaceAll(rec.Body.Bytes(), r.from, r.to))
}

// TestVisitorNameChangeRepublishesInfo: a new visitor name is a new
// chat.info (a new version, keeping the visit's details), and only one.
func TestVisitorNameChangeRepublishesInfo(t *testing.T) {
	rn := &renamer{from: []byte(`"visitorName":"Eve"`), to: []byte(`"visitorName":"Eve Adams"`)}
	e := newEnvWith(t, lpsim.Config{}, func(h http.Handler) http.Handler { rn.next = h; return rn })
	col := e.collect()
	w := e.worker(config(nil), nil, nil, nil)
	run(t, w)
	col.waitEvent(events.AgentStatus, "", func(d any) bool { return d.(events.StatusData).Status == "Online" })
	chat := e.startChat(lpsim.VisitorSpec{Name: "Eve", Device: "MOBILE"})
	first := col.waitEvent(events.ChatInfo, chat, nil)

	rn.on.Store(true)
	second := col.waitEvent(events.ChatInfo, chat, func(d any) bool { return d.(events.InfoData).VisitorName == "Eve Adams" })
	if first.ID == second.ID {
		t.Errorf("both infos have id %s", first.ID)
	}
	if d := second.Data.(events.InfoData); d.Device != "MOBILE" {
		t.Errorf("second info %+v lost the visit's device", d)
	}
	e.visitorLine(chat, "still here")
	waitLine(col, chat, "still here")
	if n := len(col.of(events.ChatInfo, chat)); n != 2 {
		t.Errorf("%d chat.info events, want 2", n)
	}
	checkStream(t, col.all())
}

// TestChatTakenElsewhereWhileStopped: the agent session is reaped while no
// worker runs, the requeued chat goes to another agent and ends there. The
// restarted worker reads the chat a last time (chatSessions no longer lists
// it) and reports it transferred, without the other agent's conversation
// and without chat.ended or a transcript: those are the other agent's (the
// chaos run saw two transcripts of such a chat).
func TestChatTakenElsewhereWhileStopped(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	const loginThree = "bot.three" // a third agent, in bot.one's skill
	if err := e.sim.AddAgent(acct, lpsim.AgentSpec{LoginName: loginThree, Password: password, Nickname: "Bot Three", SkillIDs: []string{"31100810"}}); err != nil {
		t.Fatal(err)
	}
	col := e.collect()
	chat := reapedWhileStopped(t, e, col)
	as3 := e.onlineAgent(t, loginThree)
	acceptRinging(t, as3, "bot.three")
	e.visitorLine(chat, "hello bot three")
	if err := e.sim.VisitorEnd(acct, chat); err != nil {
		t.Fatal(err)
	}

	run(t, e.worker(config(nil), nil, nil, nil))
	col.waitEvent(events.ChatTransferred, chat, nil)
	notFollowed(t, col, chat, "hello bot three", "bot.three")
	checkStream(t, col.all())
}

// staleAgentStore keeps chat in every agent state it saves while frozen
// is set: the agent state in KV still lists the chat after the worker
// dropped it, as when the worker died before it saved the agent state.
type staleAgentStore struct {
	*state.Store
	chat   string
	frozen atomic.Bool
}

func (s *staleAgentStore) SaveAgentState(ctx context.Context, account, agent string, a state.AgentState) error {
	if s.frozen.Load() && !slices.Contains(a.Chats, s.chat) {
		a.Chats = append(slices.Clone(a.Chats), s.chat)
	}
	return s.Store.SaveAgentState(ctx, account, agent, a)
}

// TestChatLeftBeforeACrashStaysLeft: the agent transfers a chat and the
// worker reports it transferred and saves its cursor, but dies before the
// agent state in KV stops listing the chat; bot.two takes it and the
// visitor ends it. The next worker must not follow the chat again from
// its cursor: that would publish bot.two's conversation, its end and a
// second transcript on bot.one's subjects (a chaos run saw two transcripts
// of such a chat).
func TestChatLeftBeforeACrashStaysLeft(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	store := &staleAgentStore{Store: e.store}
	w := e.worker(config(nil), nil, nil, store)
	stop := run(t, w)
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "I was charged twice")
	waitLine(col, chat, "I was charged twice")
	waitUntil(t, "the chat in the saved agent state", func() string {
		a, _, err := e.store.AgentState(context.Background(), acct, token)
		if err != nil || !slices.Contains(a.Chats, chat) {
			return fmt.Sprintf("agent state lists %v (%v)", a.Chats, err)
		}
		return ""
	})

	ctx := context.Background()
	as2 := e.onlineAgent(t, loginTwo)
	store.chat = chat
	store.frozen.Store(true)
	if err := sessionOf(t, w).Transfer(ctx, chat, lpchat.Transfer{SkillID: skillBilling}); err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	col.waitEvent(events.ChatTransferred, chat, nil)
	waitUntil(t, "the transfer in the chat's cursor", func() string {
		cur, _, err := e.store.Cursor(ctx, acct, token, chat)
		if err != nil || cur.LastEventID < lastEventID(col, chat) {
			return fmt.Sprintf("cursor %+v (%v)", cur, err)
		}
		return ""
	})
	stop()

	acceptRinging(t, as2, "bot.two")
	e.visitorLine(chat, "hello bot two")
	if err := e.sim.VisitorEnd(acct, chat); err != nil {
		t.Fatal(err)
	}

	run(t, e.worker(config(nil), nil, nil, nil))
	polls := e.sim.Requests()
	waitUntil(t, "the new worker's ticks", func() string {
		if e.sim.Requests() < polls+12 {
			return "waiting"
		}
		return ""
	})
	notFollowed(t, col, chat, "hello bot two", "bot.two")
	if n := len(col.of(events.ChatTransferred, chat)); n != 1 {
		t.Errorf("%d chat.transferred, want 1", n)
	}
	checkStream(t, col.all())
}

// lastEventID is the service event id of the chat's last chat.line
// published.
func lastEventID(col *collector, chat string) int {
	lines := col.of(events.ChatLine, chat)
	if len(lines) == 0 {
		return -1
	}
	return lines[len(lines)-1].Data.(events.LineData).EventID
}

// acceptRinging waits until a chat rings at the agent session as, of the
// agent who, and accepts it.
func acceptRinging(t *testing.T, as *lpchat.AgentSession, who string) {
	t.Helper()
	ctx := context.Background()
	waitUntil(t, "ringing at "+who, func() string {
		if r, err := as.IncomingRequests(ctx); err != nil || r.Count == 0 {
			return "not yet"
		}
		return ""
	})
	if _, err := as.Accept(ctx); err != nil {
		t.Fatalf("%s Accept: %v", who, err)
	}
}

// notFollowed fails if bot.one published line, said in chat to the agent
// who after the chat left bot.one, or the chat's end or transcript, which
// are who's.
func notFollowed(t *testing.T, col *collector, chat, line, who string) {
	t.Helper()
	if slices.Contains(col.chatLines(chat), line) {
		t.Errorf("a line of %s's conversation was published for bot.one", who)
	}
	if n, m := len(col.of(events.ChatEnded, chat)), len(col.of(events.ChatTranscript, chat)); n+m != 0 {
		t.Errorf("bot.one published %d chat.ended and %d transcripts of a chat that ended with %s", n, m, who)
	}
}
