package commands_test

import (
	"context"
	"testing"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// chat.accept, chat.close and chat.transfer whose HTTP call got a 502 after
// the simulator acted (a gateway lost the answer) or before it: each is
// carried out once and the reply is ok.
func TestCommandsVerifyAfterGateway502(t *testing.T) {
	for _, after := range []bool{true, false} {
		name := "before"
		if after {
			name = "after"
		}
		t.Run(name, func(t *testing.T) {
			t.Run("accept", func(t *testing.T) {
				e := newEnv(t)
				e.start(t, baseConfig())
				first := e.ringingChat(t, agentOne, skillA, lpsim.VisitorSpec{})
				second, err := e.sim.StartChat(account, lpsim.VisitorSpec{SkillID: skillA})
				must(t, err)
				e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: "/incomingRequests", Status: 502, AfterHandle: after})
				res := okResult[struct {
					ChatID string `json:"chatId"`
				}](t, e.request(t, agentOne, commands.ChatAccept, map[string]any{"id": "acc-" + name}))
				if res.ChatID != first {
					t.Errorf("accepted %q, want %q", res.ChatID, first)
				}
				if st, who, _ := e.sim.ChatState(account, second); st != "waiting" || who != "" {
					t.Errorf("the second chat is %s at %q: a blind retry took it", st, who)
				}
			})
			t.Run("close", func(t *testing.T) {
				e := newEnv(t)
				e.start(t, baseConfig())
				chatID := e.chattingChat(t, agentOne, skillA)
				e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: "/events", Status: 502, AfterHandle: after})
				okResult[struct{}](t, e.request(t, agentOne, commands.ChatClose, map[string]any{"id": "close-" + name, "chatId": chatID}))
				if n := e.countState(t, chatID, "ended"); n != 1 {
					t.Errorf("the chat ended %d times, want 1", n)
				}
			})
			t.Run("transfer", func(t *testing.T) {
				e := newEnv(t)
				e.start(t, baseConfig())
				chatID := e.chattingChat(t, agentOne, skillA)
				e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: "/transfer", Status: 502, AfterHandle: after})
				okResult[struct{}](t, e.request(t, agentOne, commands.ChatTransfer,
					map[string]any{"id": "xfer-" + name, "chatId": chatID, "skillId": skillB, "text": "note"}))
				if n := e.countText(t, chatID, "note"); n != 1 {
					t.Errorf("the transfer note is in the chat %d times, want 1 (one transfer)", n)
				}
				info, err := e.sessions.get(agentTwo).IncomingRequests(context.Background())
				must(t, err)
				if info.Count != 1 {
					t.Errorf("the chat rings %d times at the target, want 1", info.Count)
				}
			})
		})
	}
}

// countState counts the chat's state events with state st.
func (e *env) countState(t testing.TB, chatID, st string) int {
	t.Helper()
	evs, err := e.sim.ChatEvents(account, chatID)
	must(t, err)
	n := 0
	for _, ev := range evs {
		if ev.Type == "state" && ev.State == st {
			n++
		}
	}
	return n
}
