package commands_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

type chatIDResult struct {
	ChatID string `json:"chatId"`
}

type eventIDResult struct {
	EventID *int `json:"eventId"`
}

func TestRequestReplyChatCommands(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())

	chatID := e.ringingChat(t, agentOne, skillA, lpsim.VisitorSpec{Name: "Ada"})
	accepted := okResult[chatIDResult](t, e.request(t, agentOne, commands.ChatAccept, map[string]any{"id": "accept-1"}))
	if accepted.ChatID != chatID {
		t.Fatalf("chat.accept took %q, want the ringing chat %q", accepted.ChatID, chatID)
	}
	if st, agent, _ := e.sim.ChatState(account, chatID); st != "chatting" || agent != "bot.one" {
		t.Fatalf("after chat.accept the chat is %s with %q, want chatting with bot.one", st, agent)
	}

	sends := []struct {
		name string
		body map[string]any
		want lpsim.EventView
	}{
		{"plain", map[string]any{"text": "Hello Ada"}, lpsim.EventView{Text: "Hello Ada", TextType: "plain"}},
		{"html", map[string]any{"text": "<b>Bold</b> offer", "textType": "html"}, lpsim.EventView{Text: "<b>Bold</b> offer", TextType: "html"}},
		{"rich-content", map[string]any{"text": "card", "textType": "rich-content", "json": map[string]any{"type": "vertical", "elements": []any{map[string]any{"type": "text", "text": "Hi"}}}},
			lpsim.EventView{Text: "card", TextType: "rich-content"}},
		{"agents only", map[string]any{"text": "note for agents", "subType": "ONLY_TO_REP"}, lpsim.EventView{Text: "note for agents", SubType: "ONLY_TO_REP"}},
	}
	for _, s := range sends {
		s.body["chatId"] = chatID
		res := okResult[eventIDResult](t, e.request(t, agentOne, commands.ChatSend, s.body))
		if res.EventID == nil {
			t.Fatalf("%s: chat.send result has no eventId", s.name)
		}
		var got *lpsim.EventView
		for _, l := range e.agentLines(t, chatID) {
			if l.ID == *res.EventID {
				got = &l
			}
		}
		if got == nil {
			t.Fatalf("%s: no agent line with event id %d", s.name, *res.EventID)
		}
		if got.Text != s.want.Text || s.want.TextType != "" && got.TextType != s.want.TextType || s.want.SubType != "" && got.SubType != s.want.SubType {
			t.Errorf("%s: line %+v, want %+v", s.name, *got, s.want)
		}
		if s.name == "rich-content" {
			var ev struct { // EventView.JSON is the event as the API renders it
				JSON json.RawMessage `json:"json"`
			}
			must(t, json.Unmarshal(got.JSON, &ev))
			if !jsonEqual(ev.JSON, toJSON(t, s.body["json"])) {
				t.Errorf("rich-content json %s, want %s", ev.JSON, toJSON(t, s.body["json"]))
			}
		}
	}

	for _, typing := range []bool{true, false} {
		okResult[map[string]any](t, e.request(t, agentOne, commands.ChatTyping, map[string]any{"chatId": chatID, "typing": typing}))
		state, err := e.sessions.get(agentOne).AgentTyping(context.Background(), chatID)
		must(t, err)
		if want := map[bool]string{true: "typing", false: "not-typing"}[typing]; state != want {
			t.Errorf("chat.typing %v: agent typing %q, want %q", typing, state, want)
		}
	}

	info := okResult[map[string]any](t, e.request(t, agentOne, commands.ChatInfo, map[string]any{"chatId": chatID}))
	if info["chatId"] != chatID || info["state"] != "chatting" || info["visitorName"] != "Ada" {
		t.Errorf("chat.info = %v, want this chat, chatting, visitor Ada", info)
	}

	skills := okResult[struct {
		Skills []struct {
			ID           string `json:"id"`
			Name         string `json:"name"`
			OnlineAgents int    `json:"onlineAgents"`
		} `json:"skills"`
	}](t, e.request(t, agentOne, commands.ChatTransferSkills, map[string]any{"chatId": chatID}))
	if len(skills.Skills) == 0 {
		t.Fatal("chat.transfer-skills returned no skill although bot.two is Online")
	}
	for _, s := range skills.Skills {
		if s.ID == "" || s.OnlineAgents < 1 {
			t.Errorf("transfer skill %+v: want an id and online agents", s)
		}
	}

	okResult[map[string]any](t, e.request(t, agentOne, commands.ChatTransfer, map[string]any{"chatId": chatID, "skillId": skillB, "text": "needs billing"}))
	if _, err := e.sessions.get(agentTwo).Accept(context.Background()); err != nil {
		t.Fatalf("after chat.transfer to Billing the chat does not ring at bot.two: %v", err)
	}
	if st, agent, _ := e.sim.ChatState(account, chatID); st != "chatting" || agent != "bot.two" {
		t.Fatalf("after transfer the chat is %s with %q, want chatting with bot.two", st, agent)
	}
	found := false
	for _, l := range e.agentLines(t, chatID) {
		found = found || l.Text == "needs billing"
	}
	if !found {
		t.Error("the transfer note is not in the chat")
	}

	okResult[map[string]any](t, e.request(t, agentTwo, commands.ChatClose, map[string]any{"chatId": chatID}))
	if st, _, _ := e.sim.ChatState(account, chatID); st != "ended" {
		t.Fatalf("after chat.close the chat is %s, want ended", st)
	}

	// Every outcome is also a command.result event, correlated by id.
	res := e.result(t, "accept-1")
	if !res.OK || res.Command != commands.ChatAccept || !jsonEqual(res.Result, toJSON(t, map[string]any{"chatId": chatID})) {
		t.Errorf("command.result of accept-1 = %+v", res)
	}
}

func TestRequestReplyTransferToAgent(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())
	chatID := e.chattingChat(t, agentOne, skillA)
	info, err := e.sessions.get(agentTwo).Info(context.Background())
	must(t, err)

	okResult[map[string]any](t, e.request(t, agentOne, commands.ChatTransfer, map[string]any{"chatId": chatID, "agentId": info.ID, "text": "over to you"}))
	if _, err := e.sessions.get(agentTwo).Accept(context.Background()); err != nil {
		t.Fatalf("the chat does not ring at bot.two after chat.transfer to its agent id: %v", err)
	}
	// The chat is no longer bot.one's: a send is refused as chat_not_found.
	wantCode(t, e.request(t, agentOne, commands.ChatSend, map[string]any{"chatId": chatID, "text": "still there?"}), commands.CodeChatNotFound)
}

func TestRequestReplyAgentCommands(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())

	for _, status := range []string{"Away", "Occupied", "Online"} {
		got := okResult[map[string]string](t, e.request(t, agentOne, commands.AgentStatus, map[string]any{"status": status}))
		if got["status"] != status {
			t.Errorf("agent.status %s replied %v", status, got)
		}
		if a, _ := e.sim.AgentAvailability(account, "bot.one"); a != status {
			t.Errorf("agent.status %s: the service says %s", status, a)
		}
	}

	info := okResult[struct {
		ID        string `json:"id"`
		LoginName string `json:"loginName"`
		AgentName string `json:"agentName"`
		Skills    []struct {
			ID string `json:"id"`
		} `json:"skills"`
	}](t, e.request(t, agentOne, commands.AgentInfo, nil))
	if info.ID == "" || info.LoginName != "bot.one" || info.AgentName != "Bot One" || len(info.Skills) != 1 || info.Skills[0].ID != skillA {
		t.Errorf("agent.info = %+v", info)
	}

	agents := okResult[struct {
		Agents []struct {
			UserName  string `json:"userName"`
			ChatState string `json:"chatState"`
		} `json:"agents"`
	}](t, e.request(t, agentOne, commands.AgentAvailable, map[string]any{"chatState": "Online"}))
	names := map[string]bool{}
	for _, a := range agents.Agents {
		names[a.UserName] = true
		if a.ChatState != "Online" {
			t.Errorf("available agent %+v is not Online despite the filter", a)
		}
	}
	if !names["bot.one"] || !names["bot.two"] {
		t.Errorf("agent.available-agents = %+v, want bot.one and bot.two", agents)
	}

	slots := okResult[struct {
		Slots *int `json:"slots"`
	}](t, e.request(t, agentOne, commands.AgentAvailableSlots, map[string]any{"skill": "Billing"}))
	if slots.Slots == nil || *slots.Slots == 0 {
		t.Errorf("agent.available-slots for Billing = %v, want free slots (bot.two is Online)", slots.Slots)
	}
}

func TestRequestReplyChatVisitor(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())
	e.ringingChat(t, agentOne, skillA, lpsim.VisitorSpec{
		Name: "Grace", Device: "DESKTOP", OS: "LINUX", Browser: "FIREFOX", IP: "192.0.2.7",
		Survey:          []lpsim.SurveyAnswer{{QuestionID: "q1", Label: "Topic", Value: "refund"}},
		CustomVariables: map[string]string{"tier": "gold"},
	})
	chatID, err := e.sessions.get(agentOne).Accept(context.Background())
	must(t, err)

	v := okResult[events.InfoData](t, e.request(t, agentOne, commands.ChatVisitor, map[string]any{"chatId": chatID}))
	if v.VisitorName != "Grace" || v.Device != "DESKTOP" || v.OS != "LINUX" || v.Browser != "FIREFOX" || v.IP != "192.0.2.7" {
		t.Errorf("chat.visitor = %+v", v)
	}
	if len(v.PreChatSurvey) != 1 || v.PreChatSurvey[0].Value != "refund" {
		t.Errorf("chat.visitor survey = %+v", v.PreChatSurvey)
	}
	if v.CustomVariables["tier"] != "gold" {
		t.Errorf("chat.visitor custom variables = %v", v.CustomVariables)
	}
}

func jsonEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}

// Commands of one agent run in arrival order, even when the client does not
// wait for each reply.
func TestRequestReplyOrderPerAgent(t *testing.T) {
	e := newEnv(t)
	e.start(t, baseConfig())
	chatID := e.chattingChat(t, agentOne, skillA)
	inbox := nats.NewInbox()
	replies, err := e.nc.SubscribeSync(inbox)
	must(t, err)
	const n = 8
	for i := range n {
		body := toJSON(t, map[string]any{"chatId": chatID, "text": fmt.Sprintf("line %d", i)})
		must(t, e.nc.PublishRequest(commands.RequestSubject("lp", account, agentOne, commands.ChatSend), inbox, body))
	}
	for range n {
		m, err := replies.NextMsg(waitFor)
		must(t, err)
		var r commands.Reply
		must(t, json.Unmarshal(m.Data, &r))
		okResult[eventIDResult](t, r)
	}
	lines := e.agentLines(t, chatID)
	if len(lines) != n {
		t.Fatalf("%d agent lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		if l.Text != fmt.Sprintf("line %d", i) {
			t.Fatalf("line %d is %q: commands ran out of order", i, l.Text)
		}
	}
}

// An agent with too many commands waiting gets rate_limited at once; other
// agents are not held up.
func TestRequestReplyQueueLimit(t *testing.T) {
	e := newEnv(t)
	cfg := baseConfig()
	cfg.MaxQueuedPerAgent = 1
	e.start(t, cfg)
	e.sim.InjectFault(lpsim.Fault{PathContains: "/info", Latency: 300 * time.Millisecond, Count: 10})
	inbox := nats.NewInbox()
	replies, err := e.nc.SubscribeSync(inbox)
	must(t, err)
	const n = 5
	for range n {
		must(t, e.nc.PublishRequest(commands.RequestSubject("lp", account, agentOne, commands.AgentInfo), inbox, nil))
	}
	// bot.two answers while bot.one's lane is busy.
	okResult[map[string]any](t, e.request(t, agentTwo, commands.AgentStatus, map[string]any{"status": "Online"}))
	codes := map[string]int{}
	for range n {
		m, err := replies.NextMsg(waitFor)
		must(t, err)
		var r commands.Reply
		must(t, json.Unmarshal(m.Data, &r))
		if r.OK {
			codes["ok"]++
		} else {
			codes[r.Error.Code]++
		}
	}
	if codes["ok"] == 0 || codes[string(commands.CodeRateLimited)] == 0 || codes["ok"]+codes[string(commands.CodeRateLimited)] != n {
		t.Errorf("outcomes %v, want some ok and some rate_limited", codes)
	}
}
