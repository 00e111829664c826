package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/schemas"
)

// botOneToken is bot.one's token in command and event subjects.
const botOneToken = "bot_one"

// commandVars is the environment of a bridge for bot.one that leaves
// ringing chats to chat.accept commands.
func commandVars(natsURL, simURL, password string) map[string]string {
	vars := bridgeVars(natsURL, simURL, botOne, password)
	vars["AGENT_AUTO_ACCEPT"] = "false"
	return vars
}

// sentCommand is one command the test sent and the reply it got.
type sentCommand struct {
	id    string
	reply commands.Reply
}

// commander sends commands to the bridge by NATS request-reply, checks every
// reply against schemas/commands/reply.json and remembers it, so that the
// command.result events can be matched with the replies.
type commander struct {
	t    *testing.T
	b    *inProcessBridge
	nc   *nats.Conn
	set  *schemas.Set
	sent []sentCommand
}

func newCommander(t *testing.T, b *inProcessBridge, nc *nats.Conn) *commander {
	t.Helper()
	set, err := schemas.Compile()
	if err != nil {
		t.Fatalf("schemas.Compile: %v", err)
	}
	return &commander{t: t, b: b, nc: nc, set: set}
}

// request sends command with body (plus "id") to agent's request subject.
func (c *commander) request(agent, command, id string, body map[string]any) commands.Reply {
	c.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["id"] = id
	data, err := json.Marshal(body)
	if err != nil {
		c.t.Fatalf("%s body: %v", command, err)
	}
	return c.send(&nats.Msg{Subject: commands.RequestSubject("lp", e2eAccount, agent, command), Data: data}, id)
}

// send sends m as a request and returns the reply, after checking it
// validates against reply.json and carries the command id id. It retries
// only while nobody listens yet (the consumer subscribes after the start),
// when nothing ran.
func (c *commander) send(m *nats.Msg, id string) commands.Reply {
	c.t.Helper()
	var resp *nats.Msg
	var reqErr error
	waitUntil(c.t, c.b, "the command consumer answers "+m.Subject, func() error {
		resp, reqErr = c.nc.RequestMsg(m, e2eWait)
		if errors.Is(reqErr, nats.ErrNoResponders) {
			return reqErr
		}
		return nil
	})
	if reqErr != nil {
		c.t.Fatalf("request %s (id %s): %v", m.Subject, id, reqErr)
	}
	if err := c.set.ValidateReply(resp.Data); err != nil {
		c.t.Errorf("reply to %s (id %s) %s: %v", m.Subject, id, resp.Data, err)
	}
	if got := resp.Header.Get(commands.HeaderCommandID); got != id {
		c.t.Errorf("reply to %s: header %s = %q, want %q", m.Subject, commands.HeaderCommandID, got, id)
	}
	var r commands.Reply
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		c.t.Fatalf("reply to %s: %v", m.Subject, err)
	}
	c.sent = append(c.sent, sentCommand{id: id, reply: r})
	return r
}

// checkResults waits, for every command sent, for a command.result event
// with its id and the outcome its reply had.
func (c *commander) checkResults(col *collector) {
	c.t.Helper()
	for _, s := range c.sent {
		col.waitFor(c.t, c.b, "the command.result of "+s.id+" like its reply", func(r received) bool {
			if !r.is(events.CommandResult, "") || r.str("commandId") != s.id {
				return false
			}
			var d events.CommandResultData
			if json.Unmarshal(r.CE.Data(), &d) != nil || d.OK != s.reply.OK {
				return false
			}
			if !d.OK {
				return d.Error != nil && s.reply.Error != nil && d.Error.Code == s.reply.Error.Code
			}
			return sameJSON(d.Result, s.reply.Result)
		})
	}
}

// okResult asserts a successful reply and decodes its result.
func okResult[T any](t *testing.T, what string, r commands.Reply) T {
	t.Helper()
	var v T
	if !r.OK {
		t.Fatalf("%s failed: %+v", what, r.Error)
	}
	if err := json.Unmarshal(r.Result, &v); err != nil {
		t.Fatalf("%s result %s: %v", what, r.Result, err)
	}
	return v
}

// wantError asserts a failed reply with code.
func wantError(t *testing.T, what string, r commands.Reply, code commands.Code) {
	t.Helper()
	if r.OK || r.Error == nil || r.Error.Code != string(code) {
		t.Errorf("%s: reply ok=%v error=%+v, want error %s", what, r.OK, r.Error, code)
	}
}

func sameJSON(a, b []byte) bool {
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

// agentLinesWith counts the chat's agent lines with text, as the service
// (and so the visitor) has them.
func agentLinesWith(t *testing.T, sim *lpsim.Simulator, chat, text string) []lpsim.EventView {
	t.Helper()
	evs, err := sim.ChatEvents(e2eAccount, chat)
	if err != nil {
		t.Fatalf("ChatEvents: %v", err)
	}
	var out []lpsim.EventView
	for _, e := range evs {
		if e.Type == "line" && e.Source == "agent" && e.Text == text {
			out = append(out, e)
		}
	}
	return out
}

// TestE2ECommands drives a chat through the whole bridge by commands alone:
// a chat rings, chat.accept takes it, lines, a note, typing, every query,
// agent.status, chat.close; then every error code a client can meet. Every
// reply validates against reply.json, every command has its command.result
// event, and every event keeps the contract (checkEvents).
func TestE2ECommands(t *testing.T) {
	const pw = "cmd-pw-one"
	sim, simURL := startSim(t, simOptions{seed: 17, agents: e2eAgents(pw, "cmd-pw-two")})
	ns, nc, js := natstest.RunServer(t)
	setBridgeEnv(t, commandVars(ns.ClientURL(), simURL, pw))
	b := startBridge(t)
	col := collectEvents(t, b, js)
	c := newCommander(t, b, nc)
	col.waitFor(t, b, "agent.status Online at startup", func(r received) bool {
		return r.is(events.AgentStatus, "") && r.str("status") == string(lpchat.Online)
	})

	chat := startVisitor(t, sim, lpsim.VisitorSpec{
		Name: "Alice", SkillID: skillSupport, Device: "Mobile", OS: "iOS", Browser: "Safari", IP: "203.0.113.7",
		Survey:          []lpsim.SurveyAnswer{{QuestionID: "q1", Label: "Order number", Value: "A-1001"}},
		CustomVariables: map[string]string{"plan": "gold"},
	})
	col.waitFor(t, b, "agent.ringing", func(r received) bool {
		return r.is(events.AgentRinging, "") && r.str("count") != "0"
	})
	accepted := okResult[struct {
		ChatID string `json:"chatId"`
	}](t, "chat.accept", c.request(botOneToken, commands.ChatAccept, "accept-1", nil))
	if accepted.ChatID != chat {
		t.Fatalf("chat.accept took %q, want the ringing chat %q", accepted.ChatID, chat)
	}
	col.waitFor(t, b, "chat.accepted by command", func(r received) bool {
		return r.is(events.ChatAccepted, chat) && r.str("acceptedBy") == events.AcceptedByCommand
	})

	const plain, note = "Hi Alice, let me look at order A-1001.", "note: refund approved by billing"
	for _, s := range []struct{ id, text, subType string }{{"send-plain", plain, "REGULAR"}, {"send-note", note, "ONLY_TO_REP"}} {
		sent := okResult[struct {
			EventID *int `json:"eventId"`
		}](t, s.id, c.request(botOneToken, commands.ChatSend, s.id, map[string]any{"chatId": chat, "text": s.text, "subType": s.subType}))
		lines := agentLinesWith(t, sim, chat, s.text)
		if sent.EventID == nil || len(lines) != 1 || lines[0].ID != *sent.EventID || lines[0].SubType != s.subType {
			t.Errorf("%s: eventId %v; the service has %+v, want one %s line with that id", s.id, sent.EventID, lines, s.subType)
		}
	}
	okResult[map[string]any](t, "chat.typing", c.request(botOneToken, commands.ChatTyping, "typing-on", map[string]any{"chatId": chat, "typing": true}))

	checkQueries(t, c, chat)
	checkStatusCommands(t, c, col, sim)

	okResult[map[string]any](t, "chat.close", c.request(botOneToken, commands.ChatClose, "close-1", map[string]any{"chatId": chat}))
	ended := col.waitFor(t, b, "chat.ended", func(r received) bool { return r.is(events.ChatEnded, chat) })
	if ended.str("endedBy") != events.EndedByAgent {
		t.Errorf("chat.ended %v: want endedBy agent", ended)
	}
	tr := col.waitFor(t, b, "chat.transcript", func(r received) bool { return r.is(events.ChatTranscript, chat) })
	checkTranscript(t, tr, chat, []string{plain, note})
	checkNoServiceStatus(t, col.match(func(r received) bool {
		return r.is(events.AgentStatus, "") && r.StreamSeq < ended.StreamSeq
	}))

	checkErrorCodes(t, c, chat)
	checkSessionLost(t, c, col, sim)

	c.checkResults(col)
	if err := b.stop(); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	got := col.all()
	t.Logf("%d events: %s", len(got), typeCounts(got))
	checkEvents(t, got)
}

// checkQueries runs every read-only query on the chat bot.one holds.
func checkQueries(t *testing.T, c *commander, chat string) {
	t.Helper()
	info := okResult[struct {
		LoginName string `json:"loginName"`
		Skills    []struct {
			ID string `json:"id"`
		} `json:"skills"`
	}](t, "agent.info", c.request(botOneToken, commands.AgentInfo, "q-agent-info", nil))
	if info.LoginName != botOne || len(info.Skills) != 1 || info.Skills[0].ID != skillSupport {
		t.Errorf("agent.info = %+v, want bot.one with skill Support", info)
	}

	agents := okResult[struct {
		Agents []struct {
			UserName string `json:"userName"`
		} `json:"agents"`
	}](t, "agent.available-agents", c.request(botOneToken, commands.AgentAvailable, "q-agents", map[string]any{"skill": "Support"}))
	if !slices.ContainsFunc(agents.Agents, func(a struct {
		UserName string `json:"userName"`
	}) bool {
		return a.UserName == botOne
	}) {
		t.Errorf("agent.available-agents for Support = %+v, want bot.one among them", agents.Agents)
	}

	slots := okResult[struct {
		Slots *int `json:"slots"`
	}](t, "agent.available-slots", c.request(botOneToken, commands.AgentAvailableSlots, "q-slots", map[string]any{"skill": "Support"}))
	if slots.Slots == nil {
		t.Error("agent.available-slots for Support: no slots in the result")
	}

	skills := okResult[map[string]json.RawMessage](t, "chat.transfer-skills",
		c.request(botOneToken, commands.ChatTransferSkills, "q-skills", map[string]any{"chatId": chat}))
	var list []map[string]any
	if err := json.Unmarshal(skills["skills"], &list); err != nil || list == nil {
		t.Errorf("chat.transfer-skills = %v, want a skills array (%v)", skills, err)
	}

	ci := okResult[map[string]any](t, "chat.info", c.request(botOneToken, commands.ChatInfo, "q-chat-info", map[string]any{"chatId": chat}))
	if ci["chatId"] != chat || ci["state"] != "chatting" || ci["visitorName"] != "Alice" || ci["agentTyping"] != "typing" {
		t.Errorf("chat.info = %v, want this chat, chatting, visitor Alice, agent typing (after chat.typing)", ci)
	}

	r := c.request(botOneToken, commands.ChatVisitor, "q-visitor", map[string]any{"chatId": chat})
	v := okResult[events.InfoData](t, "chat.visitor", r)
	if v.VisitorName != "Alice" || v.Device != "Mobile" || v.OS != "iOS" || v.Browser != "Safari" || v.IP != "203.0.113.7" {
		t.Errorf("chat.visitor = %+v, want Alice on Mobile/iOS/Safari from 203.0.113.7", v)
	}
	if len(v.PreChatSurvey) != 1 || v.PreChatSurvey[0].Value != "A-1001" || v.CustomVariables["plan"] != "gold" {
		t.Errorf("chat.visitor survey %+v, custom variables %v; want A-1001 and plan=gold", v.PreChatSurvey, v.CustomVariables)
	}
	if err := c.set.ValidateEvent(string(events.ChatInfo), r.Result); err != nil {
		t.Errorf("chat.visitor result is not the chat.info event's data: %v", err)
	}
}

// checkStatusCommands sets bot.one Away then Online by command; each change
// is one agent.status event with cause "command".
func checkStatusCommands(t *testing.T, c *commander, col *collector, sim *lpsim.Simulator) {
	t.Helper()
	for _, st := range []lpchat.Availability{lpchat.Away, lpchat.Online} {
		id := "status-" + string(st)
		got := okResult[map[string]string](t, "agent.status "+string(st),
			c.request(botOneToken, commands.AgentStatus, id, map[string]any{"status": string(st)}))
		if got["status"] != string(st) {
			t.Errorf("agent.status %s replied %v", st, got)
		}
		if a, err := sim.AgentAvailability(e2eAccount, botOne); err != nil || a != string(st) {
			t.Errorf("after agent.status %s the service says %q (%v)", st, a, err)
		}
		col.waitFor(t, c.b, "agent.status "+string(st)+" by command", func(r received) bool {
			return r.is(events.AgentStatus, "") && r.str("status") == string(st) && r.str("cause") == events.StatusCauseCommand
		})
	}
}

// checkNoServiceStatus asserts that the Away and the Online after it, both
// set by command, were reported once each, by the command and not again by
// the poller as a change of the service.
func checkNoServiceStatus(t *testing.T, status []received) {
	t.Helper()
	var away, backOnline []received
	for _, r := range status {
		switch {
		case r.str("status") == string(lpchat.Away):
			away = append(away, r)
		case r.str("status") == string(lpchat.Online) && r.str("previous") == string(lpchat.Away):
			backOnline = append(backOnline, r)
		}
	}
	for what, got := range map[string][]received{"Away": away, "Online after Away": backOnline} {
		if len(got) != 1 || got[0].str("cause") != events.StatusCauseCommand {
			t.Errorf("agent.status %s: %v; want exactly one event, with cause command", what, got)
		}
	}
}

// checkErrorCodes sends commands that fail, each with its documented code.
func checkErrorCodes(t *testing.T, c *commander, chat string) {
	t.Helper()
	// A command that fails before its body is read (unknown command,
	// malformed JSON) keeps the id of its Nats-Msg-Id header.
	withHeaderID := func(command, id, body string) *nats.Msg {
		m := &nats.Msg{Subject: commands.RequestSubject("lp", e2eAccount, botOneToken, command), Data: []byte(body), Header: nats.Header{}}
		m.Header.Set(nats.MsgIdHdr, id)
		return m
	}
	wantError(t, "chat.dance", c.send(withHeaderID("chat.dance", "err-unknown-command", `{}`), "err-unknown-command"), commands.CodeUnknownCommand)
	wantError(t, "agent.info of nobody", c.request("nobody", commands.AgentInfo, "err-unknown-agent", nil), commands.CodeUnknownAgent)
	wantError(t, "malformed JSON", c.send(withHeaderID(commands.ChatSend, "err-bad-json", `{"chatId": "`+chat+`", "text": `), "err-bad-json"),
		commands.CodeBadRequest)
	wantError(t, "chat.send without text", c.request(botOneToken, commands.ChatSend, "err-no-text", map[string]any{"chatId": chat}), commands.CodeBadRequest)

	wantError(t, "chat.send to an unknown chat",
		c.request(botOneToken, commands.ChatSend, "err-no-chat", map[string]any{"chatId": "no-such-chat", "text": "hello?"}), commands.CodeChatNotFound)
	wantError(t, "chat.accept with nothing ringing", c.request(botOneToken, commands.ChatAccept, "err-not-ringing", nil), commands.CodeNotRinging)
}

// checkSessionLost expires bot.one's agent session and sends a command
// before the worker noticed: session_lost. Whether the worker has already
// re-created its session by the time the command looks it up is a race the
// test cannot close without reaching into the bridge, so ok is accepted
// too (and logged). Once the session is back, the same id runs and succeeds:
// a transient failure is not stored.
func checkSessionLost(t *testing.T, c *commander, col *collector, sim *lpsim.Simulator) {
	t.Helper()
	var before uint64
	if all := col.all(); len(all) > 0 {
		before = all[len(all)-1].StreamSeq
	}
	if err := sim.ExpireAgentSession(e2eAccount, botOne); err != nil {
		t.Fatal(err)
	}
	r := c.request(botOneToken, commands.AgentInfo, "after-expiry", nil)
	switch {
	case r.OK:
		t.Log("agent.info right after the session expired: ok (the worker re-created its session first)")
	case r.Error != nil && r.Error.Code == string(commands.CodeSessionLost):
		t.Logf("agent.info right after the session expired: session_lost (%s)", r.Error.Message)
	default:
		t.Errorf("agent.info right after the session expired: %+v, want session_lost (or ok)", r)
	}
	col.waitFor(t, c.b, "agent.session restarted", func(r received) bool {
		return r.is(events.AgentSession, "") && r.str("state") == events.SessionRestarted && r.StreamSeq > before
	})
	// The worker may still hand out the old session for a moment; poll.
	var retry commands.Reply
	waitUntil(t, c.b, "agent.info on the new session", func() error {
		retry = c.request(botOneToken, commands.AgentInfo, "after-expiry", nil)
		if !retry.OK {
			return fmt.Errorf("reply %+v", retry.Error)
		}
		return nil
	})
}

// TestE2EDurableCommands publishes a durable chat.send while no bridge runs;
// a bridge started later runs it once, and the same command id published
// again does not post the line a second time.
func TestE2EDurableCommands(t *testing.T) {
	const pw = "dcmd-pw-one"
	const text = "Your refund is on its way."
	sim, simURL := startSim(t, simOptions{seed: 23, agents: e2eAgents(pw, "dcmd-pw-two")})
	ns, _, js := natstest.RunServer(t)
	ctx := t.Context()

	// Before the bridge: bot.one (the test's own agent session) holds a chat,
	// and an operator created the command stream.
	as := agentSession(t, simURL, botOne, pw)
	if _, err := as.SetAvailability(ctx, lpchat.Online); err != nil {
		t.Fatalf("SetAvailability: %v", err)
	}
	chat := startVisitor(t, sim, lpsim.VisitorSpec{Name: "Dora", SkillID: skillSupport})
	waitUntil(t, nil, "the test's session accepts the chat", func() error {
		got, err := as.Accept(ctx)
		if err == nil && got != chat {
			t.Fatalf("accepted %q, want %q", got, chat)
		}
		return err
	})
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: commands.DefaultStreamName, Subjects: []string{"lp.dcmd.>"}, Retention: jetstream.WorkQueuePolicy,
		MaxAge: commands.DefaultStreamMaxAge, Duplicates: 2 * time.Minute,
	}); err != nil {
		t.Fatalf("create %s: %v", commands.DefaultStreamName, err)
	}
	body, err := json.Marshal(map[string]any{"id": "refund-reply-1", "chatId": chat, "text": text})
	if err != nil {
		t.Fatal(err)
	}
	subject := commands.DurableSubject("lp", e2eAccount, botOneToken, commands.ChatSend)
	if _, err := js.Publish(ctx, subject, body); err != nil {
		t.Fatalf("publish durable chat.send: %v", err)
	}

	vars := commandVars(ns.ClientURL(), simURL, pw)
	vars["COMMANDS_DURABLE"] = "true"
	setBridgeEnv(t, vars)
	b := startBridge(t)
	col := collectEvents(t, b, js)
	isResult := func(r received) bool {
		return r.is(events.CommandResult, "") && r.str("commandId") == "refund-reply-1" && r.Data["ok"] == true
	}
	res := col.waitFor(t, b, "the command.result of the durable chat.send", isResult)
	col.waitFor(t, b, "the line as a chat.line event", func(r received) bool {
		return r.is(events.ChatLine, chat) && r.str("source") == "agent" && r.str("text") == text
	})
	lines := agentLinesWith(t, sim, chat, text)
	if len(lines) != 1 {
		t.Fatalf("the visitor has the line %d times, want once: %+v", len(lines), lines)
	}
	want := mustJSON(t, events.CommandResultData{
		CommandID: "refund-reply-1", Command: commands.ChatSend, OK: true, Result: mustJSON(t, map[string]any{"eventId": lines[0].ID}),
	})
	if !sameJSON(res.CE.Data(), want) {
		t.Errorf("command.result %s, want %s", res.CE.Data(), want)
	}

	// The same command id again (a publisher's retry): it is consumed, and
	// answered from the stored result, without a second line.
	if _, err := js.Publish(ctx, subject, body); err != nil {
		t.Fatalf("publish the durable chat.send again: %v", err)
	}
	waitUntil(t, b, "the bridge consumes both copies", func() error {
		s, err := js.Stream(ctx, commands.DefaultStreamName)
		if err != nil {
			return err
		}
		if st := s.CachedInfo().State; st.LastSeq < 2 || st.Msgs != 0 {
			return fmt.Errorf("stream state %+v", st)
		}
		return nil
	})
	if n := len(agentLinesWith(t, sim, chat, text)); n != 1 {
		t.Errorf("after the same id again the visitor has the line %d times, want once", n)
	}
	if n := len(col.match(isResult)); n != 1 {
		t.Errorf("%d command.result events of refund-reply-1, want 1 (the replay's is a duplicate)", n)
	}
	if dlq, err := js.Stream(ctx, commands.DefaultDLQStreamName); err != nil || dlq.CachedInfo().State.Msgs != 0 {
		t.Errorf("dead letters: %v (%v), want none", dlq, err)
	}
	if err := b.stop(); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	checkEvents(t, col.all())
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
