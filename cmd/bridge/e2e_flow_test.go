package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
)

// TestE2EFlow runs the whole bridge (run) for bot.one against an embedded
// nats-server and the simulator, drives two chats through everything the API
// offers — visitors via the simulator, the agent via the test's own client
// session of the same agent (continuity) — and checks that a JetStream
// consumer of lp.evt.> receives every event type, each a valid CloudEvent
// whose data matches its JSON Schema.
// It runs once per CloudEvents encoding on NATS.
func TestE2EFlow(t *testing.T) {
	for _, enc := range []string{"binary", "structured"} {
		t.Run(enc, func(t *testing.T) { testFlow(t, enc) })
	}
}

func testFlow(t *testing.T, encoding string) {
	const pwOne, pwTwo = "flow-pw-one", "flow-pw-two"
	sim, simURL := startSim(t, simOptions{seed: 11, agents: e2eAgents(pwOne, pwTwo)})
	ns, _, js := natstest.RunServer(t)
	vars := bridgeVars(ns.ClientURL(), simURL, botOne, pwOne)
	vars["EVENT_ENCODING"] = encoding
	setBridgeEnv(t, vars)
	b := startBridge(t)
	col := collectEvents(t, b, js)
	ctx := t.Context()

	col.waitFor(t, b, "agent.session started", func(r received) bool {
		return r.is(events.AgentSession, "") && r.str("state") == events.SessionStarted
	})
	col.waitFor(t, b, "agent.status Online", func(r received) bool {
		return r.is(events.AgentStatus, "") && r.str("status") == string(lpchat.Online)
	})

	// Two chats while only bot.one is Online, so both ring at the bridge.
	chatA := startVisitor(t, sim, lpsim.VisitorSpec{
		Name: "Alice", SkillID: skillSupport, Device: "Mobile", OS: "iOS", Browser: "Safari", IP: "203.0.113.7",
		Survey:          []lpsim.SurveyAnswer{{QuestionID: "q1", Label: "Order number", Value: "A-1001"}},
		CustomVariables: map[string]string{"plan": "gold"},
	})
	chatB := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Bob", SkillID: skillSupport, Device: "Desktop", OS: "Linux"})
	for _, chat := range []string{chatA, chatB} {
		col.waitFor(t, b, "chat.accepted (auto) of "+chat, func(r received) bool {
			return r.is(events.ChatAccepted, chat) && r.str("acceptedBy") == events.AcceptedByAuto && r.str("chatId") == chat
		})
	}
	col.waitFor(t, b, "agent.ringing", func(r received) bool { return r.is(events.AgentRinging, "") })

	// The test is bot.one too: a second login and agent session of the same
	// agent sees the chats the bridge's session accepted.
	as := agentSession(t, simURL, botOne, pwOne)
	sessions, err := as.ChatSessions(ctx)
	if err != nil {
		t.Fatalf("ChatSessions of the test's session: %v", err)
	}
	for _, chat := range []string{chatA, chatB} {
		if !slices.ContainsFunc(sessions, func(s lpchat.ChatSession) bool { return s.ChatID == chat }) {
			t.Fatalf("continuity: chat %s held by bot.one is not in the chatSessions of its second agent session: %+v", chat, sessions)
		}
	}

	// Lines both ways.
	const visitorText, agentText = "Hello, where is my order A-1001?", "Hi Alice, let me check that for you."
	if _, err := sim.VisitorLine(e2eAccount, chatA, visitorText); err != nil {
		t.Fatal(err)
	}
	col.waitFor(t, b, "the visitor's line", func(r received) bool {
		return r.is(events.ChatLine, chatA) && r.str("source") == "visitor" && r.str("text") == visitorText
	})
	agentEventID, err := as.SendLine(ctx, chatA, lpchat.Line{Text: agentText})
	if err != nil {
		t.Fatalf("SendLine: %v", err)
	}
	line := col.waitFor(t, b, "the agent's line", func(r received) bool {
		return r.is(events.ChatLine, chatA) && r.str("source") == "agent" && r.str("text") == agentText
	})
	if line.str("eventId") != fmt.Sprint(agentEventID) || line.str("by") != "Bot One" {
		t.Errorf("agent line %v: want eventId %d by Bot One", line, agentEventID)
	}
	if len(col.match(func(r received) bool { return r.is(events.ChatLine, chatA) && r.str("source") == "system" })) == 0 {
		t.Errorf("no system line of chat %s arrived", chatA)
	}

	// Typing: the agent's is set through the API; the visitor's becomes events.
	if err := as.SetAgentTyping(ctx, chatA, true); err != nil {
		t.Fatalf("SetAgentTyping: %v", err)
	}
	if got, err := as.AgentTyping(ctx, chatA); err != nil || got != "typing" {
		t.Errorf("AgentTyping = %q, %v; want typing", got, err)
	}
	if err := sim.VisitorTyping(e2eAccount, chatA, true); err != nil {
		t.Fatal(err)
	}
	typing := col.waitFor(t, b, "chat.typing true", func(r received) bool {
		return r.is(events.ChatTyping, chatA) && r.Data["typing"] == true
	})
	if err := sim.VisitorTyping(e2eAccount, chatA, false); err != nil {
		t.Fatal(err)
	}
	col.waitFor(t, b, "chat.typing false", func(r received) bool {
		return r.is(events.ChatTyping, chatA) && r.Data["typing"] == false && r.StreamSeq > typing.StreamSeq
	})

	// Info: read through the API, published with the visit's details.
	ci, err := as.ChatInfo(ctx, chatA)
	if err != nil {
		t.Fatalf("ChatInfo: %v", err)
	}
	if ci.VisitorName != "Alice" || ci.State != "chatting" {
		t.Errorf("ChatInfo = %+v; want visitor Alice, state chatting", ci)
	}
	info := col.waitFor(t, b, "chat.info with the visit's details", func(r received) bool {
		return r.is(events.ChatInfo, chatA) && r.str("device") != ""
	})
	checkInfo(t, info)

	// The agent ends chat A: ended, state ended, and one whole transcript.
	if err := as.EndChat(ctx, chatA); err != nil {
		t.Fatalf("EndChat: %v", err)
	}
	ended := col.waitFor(t, b, "chat.ended", func(r received) bool { return r.is(events.ChatEnded, chatA) })
	if ended.str("endedBy") != events.EndedByAgent {
		t.Errorf("chat.ended %v: want endedBy agent", ended)
	}
	col.waitFor(t, b, "chat.state ended", func(r received) bool {
		return r.is(events.ChatState, chatA) && r.str("state") == "ended"
	})
	tr := col.waitFor(t, b, "chat.transcript", func(r received) bool { return r.is(events.ChatTranscript, chatA) })
	checkTranscript(t, tr, chatA, []string{visitorText, agentText})

	// Chat B goes to Billing, where bot.two (the test's session) is Online.
	if _, err := sim.VisitorLine(e2eAccount, chatB, "I was charged twice."); err != nil {
		t.Fatal(err)
	}
	two := agentSession(t, simURL, botTwo, pwTwo)
	if _, err := two.SetAvailability(ctx, lpchat.Online); err != nil {
		t.Fatalf("bot.two SetAvailability: %v", err)
	}
	skills, err := as.TransferSkills(ctx, chatB)
	if err != nil {
		t.Fatalf("TransferSkills: %v", err)
	}
	if !slices.ContainsFunc(skills, func(s lpchat.Skill) bool { return s.ID == skillBilling }) {
		t.Fatalf("TransferSkills = %+v; want Billing (%s), where bot.two is Online", skills, skillBilling)
	}
	if err := as.Transfer(ctx, chatB, lpchat.Transfer{SkillID: skillBilling, Text: "Double charge, please refund."}); err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	moved := col.waitFor(t, b, "chat.transferred", func(r received) bool { return r.is(events.ChatTransferred, chatB) })
	if moved.str("eventId") == "0" {
		t.Errorf("chat.transferred %v: want the id of the transfer's event", moved)
	}
	if _, agent, err := sim.ChatState(e2eAccount, chatB); err != nil || agent == botOne {
		t.Errorf("after the transfer the simulator has chat B with %q (%v); want it away from bot.one", agent, err)
	}

	if err := b.stop(); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	got := col.all()
	t.Logf("%d events: %s", len(got), typeCounts(got))
	checkEvents(t, got)
	for _, typ := range events.AllTypes() {
		if typ == events.CommandResult {
			continue // this flow sends no commands; TestE2ECommands covers command.result
		}
		if !slices.ContainsFunc(got, func(r received) bool { return r.is(typ, "") }) {
			t.Errorf("no %s event arrived", typ.Suffix())
		}
	}
}

// startVisitor starts a visitor's chat in the simulator.
func startVisitor(t *testing.T, sim *lpsim.Simulator, v lpsim.VisitorSpec) string {
	t.Helper()
	id, err := sim.StartChat(e2eAccount, v)
	if err != nil {
		t.Fatalf("StartChat %s: %v", v.Name, err)
	}
	return id
}

// agentSession logs in as login with the test's own client and starts an
// agent session (Away until told otherwise).
func agentSession(t *testing.T, simURL, login, password string) *lpchat.AgentSession {
	t.Helper()
	c, err := lpchat.New(lpchat.Config{DomainURL: simURL, Account: e2eAccount, AllowInsecureHTTP: true})
	if err != nil {
		t.Fatalf("lpchat.New: %v", err)
	}
	if _, err := c.Login(t.Context(), lpchat.Credentials{Username: login, Password: password}); err != nil {
		t.Fatalf("login %s: %v", login, err)
	}
	as, err := c.StartAgentSession(t.Context())
	if err != nil {
		t.Fatalf("agent session %s: %v", login, err)
	}
	return as
}

// checkInfo asserts chat A's chat.info carries the visitor's name, device
// and pre-chat survey.
func checkInfo(t *testing.T, info received) {
	t.Helper()
	var d events.InfoData
	if err := json.Unmarshal(info.CE.Data(), &d); err != nil {
		t.Fatalf("chat.info data: %v", err)
	}
	if d.VisitorName != "Alice" || d.Device != "Mobile" || d.OS != "iOS" {
		t.Errorf("chat.info %+v: want visitor Alice on Mobile/iOS", d)
	}
	if !slices.ContainsFunc(d.PreChatSurvey, func(a events.SurveyAnswer) bool { return a.Value == "A-1001" }) {
		t.Errorf("chat.info pre-chat survey %+v: want the answer A-1001", d.PreChatSurvey)
	}
}

// checkTranscript asserts a transcript is of chat and holds texts, in order,
// among its lines.
func checkTranscript(t *testing.T, tr received, chat string, texts []string) {
	t.Helper()
	var d events.TranscriptData
	if err := json.Unmarshal(tr.CE.Data(), &d); err != nil {
		t.Fatalf("chat.transcript data: %v", err)
	}
	if d.ChatID != chat {
		t.Errorf("transcript of %q, want %q", d.ChatID, chat)
	}
	var got []string
	for _, l := range d.Lines {
		if slices.Contains(texts, l.Text) {
			got = append(got, l.Text)
		}
	}
	if !slices.Equal(got, texts) {
		t.Errorf("transcript lines %q; want %q in this order among them (all: %s)", got, texts, transcriptTexts(d))
	}
}

func transcriptTexts(d events.TranscriptData) string {
	var b strings.Builder
	for _, l := range d.Lines {
		fmt.Fprintf(&b, "[%d %s %q] ", l.EventID, l.Source, l.Text)
	}
	return b.String()
}
