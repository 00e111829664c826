package poller_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
	"github.com/lpbridge/lpbridge/internal/state"
)

// acceptedChat starts a worker-visible chat and waits until it is accepted.
func acceptedChat(t *testing.T, e *env, col *collector) string {
	t.Helper()
	col.waitEvent(events.AgentStatus, "", func(d any) bool { return d.(events.StatusData).Status == "Online" })
	chat := e.startChat(lpsim.VisitorSpec{Name: "Eve"})
	col.waitEvent(events.ChatAccepted, chat, nil)
	return chat
}

func waitLine(col *collector, chat, text string) {
	col.waitEvent(events.ChatLine, chat, func(d any) bool { return d.(events.LineData).Text == text })
}

// wantLines fails unless every text arrived, each once and in order.
func wantLines(t *testing.T, col *collector, chat string, texts ...string) {
	t.Helper()
	lines := col.chatLines(chat) // fails on a doubled or reordered event id
	var mine []string
	for _, l := range lines {
		if slices.Contains(texts, l) {
			mine = append(mine, l)
		}
	}
	if !slices.Equal(mine, texts) {
		t.Errorf("chat lines %q, want %q each once in this order", lines, texts)
	}
}

// TestAgentSessionExpiry: the service drops the agent session; the worker
// reports it lost, logs in again, starts a new session, takes the requeued
// chat again and no line is lost or doubled.
func TestAgentSessionExpiry(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	w := e.worker(config(nil), nil, nil, nil)
	run(t, w)
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "one")
	waitLine(col, chat, "one")
	first := sessionOf(t, w).ID

	if err := e.sim.ExpireAgentSession(acct, login); err != nil {
		t.Fatalf("ExpireAgentSession: %v", err)
	}
	e.visitorLine(chat, "two") // while the worker has not noticed yet
	lost := col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionLost })
	if id := lost.Data.(events.SessionData).AgentSessionID; id != first {
		t.Errorf("lost session %q, want %q", id, first)
	}
	re := col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionRestarted })
	if id := re.Data.(events.SessionData).AgentSessionID; id == first || id == "" {
		t.Errorf("restarted session id %q, want a new one", id)
	}
	waitLine(col, chat, "two")
	e.visitorLine(chat, "three")
	waitLine(col, chat, "three")
	wantLines(t, col, chat, "one", "two", "three")
	checkStream(t, col.all())
}

// TestLoginExpiry: the bearer dies (401 everywhere); the worker reports the
// session lost, logs in again and goes on with the chat.
func TestLoginExpiry(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	w := e.worker(config(nil), nil, nil, nil)
	run(t, w)
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "before")
	waitLine(col, chat, "before")

	if err := e.sim.ExpireLogin(acct, login); err != nil {
		t.Fatalf("ExpireLogin: %v", err)
	}
	e.visitorLine(chat, "during")
	col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionLost })
	col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionRestarted })
	e.visitorLine(chat, "after")
	waitLine(col, chat, "after")
	wantLines(t, col, chat, "before", "during", "after")
	checkStream(t, col.all())
}

// TestRestartContinuesFromCursor: a new Worker with the same store resumes
// the agent session and goes on from the saved cursors; nothing published
// before the restart is published again.
func TestRestartContinuesFromCursor(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	pub1 := &countingPublisher{inner: e.pub}
	w1 := e.worker(config(nil), nil, pub1, nil)
	stop1 := run(t, w1)
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "first")
	typed := col.waitEvent(events.ChatLine, chat, func(d any) bool { return d.(events.LineData).Text == "first" })
	// Stop only once the cursor is saved: a stop while the publish is in
	// flight may rightly publish it again (the stream drops the copy).
	waitCursor(t, e, chat, typed.Data.(events.LineData).EventID)
	stop1()

	e.visitorLine(chat, "while down")
	pub2 := &countingPublisher{inner: e.pub}
	w2 := e.worker(config(nil), nil, pub2, nil)
	run(t, w2)
	col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionResumed })
	waitLine(col, chat, "while down")
	e.visitorLine(chat, "after")
	waitLine(col, chat, "after")

	wantLines(t, col, chat, "first", "while down", "after")

	// The agent ends the chat: one transcript, with the lines of both
	// workers and the info the first one published.
	if err := sessionOf(t, w2).EndChat(context.Background(), chat); err != nil {
		t.Fatalf("EndChat: %v", err)
	}
	ended := col.waitEvent(events.ChatEnded, chat, nil).Data.(events.EndedData)
	if ended.EndedBy != events.EndedByAgent {
		t.Errorf("endedBy = %q, want agent", ended.EndedBy)
	}
	tr := col.waitEvent(events.ChatTranscript, chat, nil).Data.(events.TranscriptData)
	var texts []string
	for _, l := range tr.Lines {
		texts = append(texts, l.Text)
	}
	for _, want := range []string{"first", "while down", "after"} {
		if !slices.Contains(texts, want) {
			t.Errorf("transcript %q lacks %q", texts, want)
		}
	}
	if tr.Info == nil || tr.Info.VisitorName != "Eve" {
		t.Errorf("transcript info = %+v, want visitor Eve", tr.Info)
	}
	if n := pub2.count(typed.ID); n != 0 {
		t.Errorf("restarted worker published %s again %d times; its cursor should have skipped it", typed.ID, n)
	}
	for _, typ := range []events.Type{events.ChatAccepted, events.ChatInfo} {
		if n := len(col.of(typ, chat)); n != 1 {
			t.Errorf("%d %s events across the restart, want 1", n, typ)
		}
	}
	checkStream(t, col.all())
}

// waitCursor waits until the chat's saved cursor is at or past eventID.
func waitCursor(t *testing.T, e *env, chat string, eventID int) {
	t.Helper()
	waitUntil(t, "cursor saved", func() string {
		cur, ok, err := e.store.Cursor(context.Background(), acct, token, chat)
		if err != nil || !ok || cur.LastEventID < eventID {
			return fmt.Sprintf("cursor %+v (found %v, %v), want event %d", cur, ok, err, eventID)
		}
		return ""
	})
}

// TestRestartAfterSessionGone: the saved agent session died while the
// bridge was down; the new worker cannot resume it, starts a new one, takes
// the requeued chat again and goes on from the chat's cursor.
func TestRestartAfterSessionGone(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	chat := reapedWhileStopped(t, e, col)
	e.visitorLine(chat, "requeued")
	run(t, e.worker(config(nil), nil, nil, nil))
	re := col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionRestarted })
	if r := re.Data.(events.SessionData).Reason; !strings.Contains(r, "could not be resumed") {
		t.Errorf("restarted reason %q, want it to say the old session could not be resumed", r)
	}
	col.waitEvent(events.ChatAccepted, chat, func(d any) bool { return len(col.of(events.ChatAccepted, chat)) == 2 })
	e.visitorLine(chat, "back")
	waitLine(col, chat, "back")
	wantLines(t, col, chat, "before", "requeued", "back")
	checkStream(t, col.all())
}

// reapedWhileStopped runs a worker until it polls a chat with the line
// "before", stops it, then has the service reap its agent session, so the
// chat is requeued while no worker runs. It returns the chat.
func reapedWhileStopped(t *testing.T, e *env, col *collector) string {
	t.Helper()
	stop := run(t, e.worker(config(nil), nil, nil, nil))
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "before")
	waitLine(col, chat, "before")
	stop()
	if err := e.sim.ExpireAgentSession(acct, login); err != nil {
		t.Fatalf("ExpireAgentSession: %v", err)
	}
	return chat
}

// forgetfulStore loses every cursor save while failing is set: a crash
// between publishing and saving the cursor.
type forgetfulStore struct {
	*state.Store
	failing atomic.Bool
}

var errDiskFull = errors.New("kv unavailable")

func (s *forgetfulStore) SaveCursor(ctx context.Context, account, agent, chatID string, c state.Cursor) error {
	if s.failing.Load() {
		return errDiskFull
	}
	return s.Store.SaveCursor(ctx, account, agent, chatID, c)
}

// TestCrashBeforeCursorSaved: events published but never recorded in the
// cursor are published again after a restart, with the same ids, so the
// stream keeps one copy of each.
func TestCrashBeforeCursorSaved(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	store := &forgetfulStore{Store: e.store}
	w1 := e.worker(config(nil), nil, nil, store)
	stop1 := run(t, w1)
	chat := acceptedChat(t, e, col)
	e.visitorLine(chat, "saved")
	waitLine(col, chat, "saved")

	store.failing.Store(true)
	e.visitorLine(chat, "published, cursor not saved")
	waitLine(col, chat, "published, cursor not saved")
	stop1()

	pub2 := &countingPublisher{inner: e.pub}
	w2 := e.worker(config(nil), nil, pub2, e.store)
	run(t, w2)
	unsaved := col.waitEvent(events.ChatLine, chat, func(d any) bool {
		return d.(events.LineData).Text == "published, cursor not saved"
	})
	waitUntil(t, "republished", func() string {
		if pub2.count(unsaved.ID) == 0 {
			return "the unsaved line was not published again"
		}
		return ""
	})
	e.visitorLine(chat, "later")
	waitLine(col, chat, "later")
	wantLines(t, col, chat, "saved", "published, cursor not saved", "later")
	checkStream(t, col.all())
}

// TestFaultsDoNotStopPolling: 5xx beyond the client's retries, and 429 with
// Retry-After, cost the worker a tick or two but it keeps polling.
func TestFaultsDoNotStopPolling(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	w := e.worker(config(nil), nil, nil, nil)
	run(t, w)
	chat := acceptedChat(t, e, col)

	e.sim.InjectFault(lpsim.Fault{PathContains: "/incomingRequests", Status: 503, Count: 8})
	e.visitorLine(chat, "through 503s")
	waitLine(col, chat, "through 503s")

	e.sim.InjectFault(lpsim.Fault{PathContains: "/agentSession/", Method: "GET", Status: 429, RetryAfter: "1", Count: 3})
	e.sim.InjectFault(lpsim.Fault{PathContains: "/chat", Status: 500, Count: 6})
	e.visitorLine(chat, "through 429s and 500s")
	waitLine(col, chat, "through 429s and 500s")

	e.sim.InjectFault(lpsim.Fault{PathContains: "/chat", Drop: true, Count: 3})
	e.visitorLine(chat, "through dropped connections")
	waitLine(col, chat, "through dropped connections")

	waitUntil(t, "healthy", func() string {
		if !w.Healthy(waitFor) {
			return "not healthy"
		}
		return ""
	})
	wantLines(t, col, chat, "through 503s", "through 429s and 500s", "through dropped connections")
	if n := len(col.of(events.AgentSession, "")); n != 1 {
		t.Errorf("%d agent.session events, want only the start: faults must not cost the session", n)
	}
	checkStream(t, col.all())
}

// TestNewRejectsBadConfig: every problem is reported at once.
func TestNewRejectsBadConfig(t *testing.T) {
	_, err := poller.New(poller.Config{Jitter: 2, ReloginBackoff: []time.Duration{-time.Second}}, nil, nil, nil, nil)
	if !errors.Is(err, poller.ErrInvalidConfig) {
		t.Fatalf("New = %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{"Account", "LoginName", "Jitter", "ReloginBackoff", "client", "publisher", "store"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// TestLoginFailuresBackOff: while login fails (5xx beyond the client's
// retries) the worker waits ReloginBackoff between attempts and starts the
// session once login works again.
func TestLoginFailuresBackOff(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	rc := &loginCounter{}
	client := e.client(func(rt http.RoundTripper) http.RoundTripper { rc.inner = rt; return rc })
	// Each Login makes 3 attempts (2 retries): two whole logins fail.
	e.sim.InjectFault(lpsim.Fault{PathContains: "/login", Status: 503, Count: 6})
	w := e.worker(config(nil), client, nil, nil)
	run(t, w)
	col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionStarted })
	if n := rc.n.Load(); n != 7 {
		t.Errorf("%d login requests, want 6 failed and 1 good", n)
	}
	if w.Session() == nil {
		t.Errorf("no session after start")
	}
}

type loginCounter struct {
	inner http.RoundTripper
	n     atomic.Int64
}

func (l *loginCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/login") {
		l.n.Add(1)
	}
	return l.inner.RoundTrip(r)
}

// TestLogoutOnStop: with LogoutOnStop the worker logs out when stopped,
// publishes agent.session "ended", and a later worker starts afresh.
func TestLogoutOnStop(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	cfg := config(func(c *poller.Config) { c.LogoutOnStop = true })
	w := e.worker(cfg, nil, nil, nil)
	stop := run(t, w)
	started := col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionStarted })
	as := sessionOf(t, w)
	stop()
	ended := col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionEnded })
	if id := ended.Data.(events.SessionData).AgentSessionID; id != started.Data.(events.SessionData).AgentSessionID {
		t.Errorf("ended session %q, want %q", id, started.Data.(events.SessionData).AgentSessionID)
	}
	if _, err := as.ChatSessions(context.Background()); err == nil {
		t.Errorf("the agent session still answers after logout")
	}
	if w.Session() != nil {
		t.Errorf("Session() = non-nil after Run returned")
	}

	w2 := e.worker(cfg, nil, nil, nil)
	run(t, w2)
	waitUntil(t, "second start", func() string {
		if n := len(col.of(events.AgentSession, "")); n < 3 {
			return "waiting"
		}
		return ""
	})
	if st := col.of(events.AgentSession, "")[2].Data.(events.SessionData).State; st != events.SessionStarted {
		t.Errorf("after a logout the next worker's session is %q, want started", st)
	}
	checkStream(t, col.all())
}
