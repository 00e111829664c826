package poller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
	"github.com/lpbridge/lpbridge/schemas"
)

// TestAutoAcceptChatFlow walks one chat through its life: ring, auto-accept,
// info, lines both ways, typing, visitor name change, end, transcript.
func TestAutoAcceptChatFlow(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	w := e.worker(config(nil), nil, nil, nil)
	run(t, w)

	col.waitEvent(events.AgentSession, "", func(d any) bool { return d.(events.SessionData).State == events.SessionStarted })
	col.waitEvent(events.AgentStatus, "", func(d any) bool {
		s := d.(events.StatusData)
		return s.Status == "Online" && s.Cause == events.StatusCauseStartup
	})

	chat := e.startChat(lpsim.VisitorSpec{
		Name: "Ada", SkillID: "31100810",
		Survey: []lpsim.SurveyAnswer{{QuestionID: "q1", Label: "Order number", Value: "A-42"}},
		Device: "DESKTOP", OS: "LINUX", Browser: "FIREFOX", IP: "192.0.2.7",
		CustomVariables: map[string]string{"tier": "gold"},
	})
	col.waitEvent(events.AgentRinging, "", func(d any) bool { return d.(events.RingingData).Count == 1 })
	acc := col.waitEvent(events.ChatAccepted, chat, nil)
	if a := acc.Data.(events.AcceptedData); a.AcceptedBy != events.AcceptedByAuto || a.ChatID != chat {
		t.Errorf("accepted = %+v, want auto for %s", a, chat)
	}
	info := col.waitEvent(events.ChatInfo, chat, nil).Data.(events.InfoData)
	if info.VisitorName != "Ada" || info.Device != "DESKTOP" || info.OS != "LINUX" || info.Browser != "FIREFOX" || info.IP != "192.0.2.7" {
		t.Errorf("info = %+v, want visitor Ada on DESKTOP/LINUX/FIREFOX at 192.0.2.7", info)
	}
	if len(info.PreChatSurvey) != 1 || info.PreChatSurvey[0].Value != "A-42" {
		t.Errorf("info pre-chat survey = %+v, want the order number A-42", info.PreChatSurvey)
	}
	if info.CustomVariables["tier"] != "gold" {
		t.Errorf("info custom variables = %v, want tier=gold", info.CustomVariables)
	}
	col.waitEvent(events.ChatState, chat, func(d any) bool { return d.(events.StateData).State == "chatting" })

	e.visitorLine(chat, "hi, my order is late")
	col.waitEvent(events.ChatLine, chat, func(d any) bool { return d.(events.LineData).Text == "hi, my order is late" })
	as := sessionOf(t, w)
	if _, err := as.SendLine(context.Background(), chat, lpchat.Line{Text: "Let me check that for you."}); err != nil {
		t.Fatalf("SendLine: %v", err)
	}
	agentLine := col.waitEvent(events.ChatLine, chat, func(d any) bool { return d.(events.LineData).Text == "Let me check that for you." })
	if l := agentLine.Data.(events.LineData); l.Source != "agent" {
		t.Errorf("agent line source = %q, want agent", l.Source)
	}

	if err := e.sim.VisitorTyping(acct, chat, true); err != nil {
		t.Fatalf("VisitorTyping: %v", err)
	}
	col.waitEvent(events.ChatTyping, chat, func(d any) bool { return d.(events.TypingData).Typing })
	if err := e.sim.VisitorTyping(acct, chat, false); err != nil {
		t.Fatalf("VisitorTyping: %v", err)
	}
	col.waitEvent(events.ChatTyping, chat, func(d any) bool { return !d.(events.TypingData).Typing })

	e.visitorLine(chat, "thanks, bye")
	if err := e.sim.VisitorEnd(acct, chat); err != nil {
		t.Fatalf("VisitorEnd: %v", err)
	}
	ended := col.waitEvent(events.ChatEnded, chat, nil).Data.(events.EndedData)
	if ended.EndedBy != events.EndedByVisitor {
		t.Errorf("endedBy = %q, want visitor", ended.EndedBy)
	}
	tr := col.waitEvent(events.ChatTranscript, chat, nil).Data.(events.TranscriptData)

	// The transcript holds every line, as the line events did.
	lines := col.chatLines(chat)
	var trTexts []string
	for _, l := range tr.Lines {
		trTexts = append(trTexts, l.Text)
	}
	if !slices.Equal(trTexts, lines) {
		t.Errorf("transcript lines = %q, want the line events %q", trTexts, lines)
	}
	for _, want := range []string{"hi, my order is late", "Let me check that for you.", "thanks, bye"} {
		if !slices.Contains(lines, want) {
			t.Errorf("lines %q lack %q", lines, want)
		}
	}
	if tr.Info == nil || tr.Info.VisitorName != "Ada" || tr.EndedBy != events.EndedByVisitor {
		t.Errorf("transcript info/endedBy = %+v/%q", tr.Info, tr.EndedBy)
	}

	// Once the chat is done it is polled no more: no second transcript even
	// after more ticks, and the chat's events keep the service's order.
	polls := e.sim.Requests()
	waitUntil(t, "more ticks", func() string {
		if e.sim.Requests() < polls+10 {
			return "waiting"
		}
		return ""
	})
	if n := len(col.of(events.ChatTranscript, chat)); n != 1 {
		t.Errorf("%d transcripts, want exactly 1", n)
	}
	if n := len(col.of(events.ChatEnded, chat)); n != 1 {
		t.Errorf("%d ended events, want exactly 1", n)
	}
	checkChatOrder(t, col.all(), chat)
	checkStream(t, col.all())
}

// checkChatOrder fails when a chat's line/state events are not in the
// service's order, or when ended/transcript come before the "ended" state.
func checkChatOrder(t *testing.T, all []got, chat string) {
	t.Helper()
	last, endedSeen := -1, false
	for _, g := range all {
		if g.ChatID != chat {
			continue
		}
		var id int
		switch d := g.Data.(type) {
		case events.LineData:
			id = d.EventID
		case events.StateData:
			id = d.EventID
			if d.State == "ended" {
				endedSeen = true
			}
		case events.EndedData, events.TranscriptData:
			if !endedSeen {
				t.Errorf("%s before the ended state", g.Type)
			}
			continue
		default:
			continue
		}
		if id <= last {
			t.Errorf("chat %s: event %d after %d", chat, id, last)
		}
		last = id
	}
}

// checkStream fails when two messages in the stream share an id, when a
// chat's seq does not grow, or when data does not match its JSON Schema; it
// logs the stream's events (shown with -v or on failure).
func checkStream(t *testing.T, all []got) {
	t.Helper()
	set, err := schemas.Compile()
	if err != nil {
		t.Fatalf("schemas.Compile: %v", err)
	}
	seen := map[string]bool{}
	seq := map[string]int64{}
	for _, g := range all {
		if g.ChatID != "" {
			if g.Seq <= seq[g.ChatID] {
				t.Errorf("chat %s: seq %d of %s after seq %d", g.ChatID, g.Seq, g.Type, seq[g.ChatID])
			}
			seq[g.ChatID] = g.Seq
		}
		t.Logf("%-28s %-24s seq=%-3d %+v", strings.TrimPrefix(string(g.Type), "lpbridge."), short(g.ChatID), g.Seq, g.Data)
		if seen[g.ID] {
			t.Errorf("event id %s stored twice", g.ID)
		}
		seen[g.ID] = true
		if err := set.ValidateEvent(string(g.Type), g.Raw); err != nil {
			t.Errorf("%s %s: data does not match its schema: %v", g.Type, g.ID, err)
		}
	}
}

// TestRingingWithoutAutoAccept: the worker reports the ringing count and,
// when something else (the command consumer) takes the chat, reports it as
// accepted by command once it sees it in chatSessions.
func TestRingingWithoutAutoAccept(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	w := e.worker(config(func(c *poller.Config) { c.Agent.AutoAccept = false }), nil, nil, nil)
	run(t, w)
	col.waitEvent(events.AgentStatus, "", func(d any) bool { return d.(events.StatusData).Status == "Online" })

	chat := e.startChat(lpsim.VisitorSpec{Name: "Bo"})
	col.waitEvent(events.AgentRinging, "", func(d any) bool { return d.(events.RingingData).Count == 1 })
	if n := len(col.of(events.ChatAccepted, "")); n != 0 {
		t.Fatalf("%d chats accepted without AutoAccept", n)
	}

	// The command consumer takes the chat with the worker's session.
	as := sessionOf(t, w)
	id, err := as.Accept(context.Background())
	if err != nil || id != chat {
		t.Fatalf("Accept = %q, %v; want %s", id, err, chat)
	}
	acc := col.waitEvent(events.ChatAccepted, chat, nil).Data.(events.AcceptedData)
	if acc.AcceptedBy != events.AcceptedByCommand {
		t.Errorf("acceptedBy = %q, want command", acc.AcceptedBy)
	}
	col.waitEvent(events.AgentRinging, "", func(d any) bool { return d.(events.RingingData).Count == 0 })
	e.visitorLine(chat, "hello?")
	col.waitEvent(events.ChatLine, chat, func(d any) bool { return d.(events.LineData).Text == "hello?" })

	// Track makes a second command-accepted chat known at once.
	chat2 := e.startChat(lpsim.VisitorSpec{Name: "Cy"})
	col.waitEvent(events.AgentRinging, "", func(d any) bool { return d.(events.RingingData).Count == 1 })
	id2, err := as.Accept(context.Background())
	if err != nil || id2 != chat2 {
		t.Fatalf("Accept = %q, %v; want %s", id2, err, chat2)
	}
	w.Track(id2)
	col.waitEvent(events.ChatAccepted, chat2, nil)
	if n := len(col.of(events.ChatAccepted, chat)); n != 1 {
		t.Errorf("first chat accepted %d times, want 1", n)
	}
	checkStream(t, col.all())
}

// TestMissedRingSetsAway: a chat the agent lets ring out makes the service
// set the agent Away; the worker reports it with cause "service".
func TestMissedRingSetsAway(t *testing.T) {
	e := newEnv(t, lpsim.Config{AcceptWindow: 200 * time.Millisecond})
	col := e.collect()
	w := e.worker(config(func(c *poller.Config) { c.Agent.AutoAccept = false }), nil, nil, nil)
	run(t, w)
	col.waitEvent(events.AgentStatus, "", func(d any) bool { return d.(events.StatusData).Status == "Online" })

	chat := e.startChat(lpsim.VisitorSpec{Name: "Di"})
	col.waitEvent(events.AgentRinging, "", func(d any) bool { return d.(events.RingingData).Count == 1 })
	away := col.waitEvent(events.AgentStatus, "", func(d any) bool { return d.(events.StatusData).Status == "Away" }).Data.(events.StatusData)
	if away.Cause != events.StatusCauseService || away.Previous != "Online" {
		t.Errorf("status = %+v, want Away from Online caused by the service", away)
	}
	col.waitEvent(events.AgentRinging, "", func(d any) bool { return d.(events.RingingData).Count == 0 })
	// The visitor gives up, so nothing rings when the agent is back.
	if err := e.sim.VisitorEnd(acct, chat); err != nil {
		t.Fatalf("VisitorEnd: %v", err)
	}

	// A status set by command is reported once, with cause command.
	if _, err := w.SetAvailability(context.Background(), lpchat.Online); err != nil {
		t.Fatalf("SetAvailability: %v", err)
	}
	col.waitEvent(events.AgentStatus, "", func(d any) bool {
		s := d.(events.StatusData)
		return s.Status == "Online" && s.Cause == events.StatusCauseCommand
	})
	polls := e.sim.Requests()
	waitUntil(t, "a few syncs", func() string {
		if e.sim.Requests() < polls+12 {
			return "waiting"
		}
		return ""
	})
	var statuses []string
	for _, g := range col.of(events.AgentStatus, "") {
		s := g.Data.(events.StatusData)
		statuses = append(statuses, fmt.Sprintf("%s/%s", s.Status, s.Cause))
	}
	if want := []string{"Online/startup", "Away/service", "Online/command"}; !slices.Equal(statuses, want) {
		t.Errorf("statuses = %v, want %v", statuses, want)
	}
}

// short abbreviates a chat id for logs.
func short(chat string) string {
	if len(chat) > 12 {
		return chat[:6] + "…" + chat[len(chat)-5:]
	}
	return chat
}
