package lpsim_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// accountView reads GET /sim/accounts/{acct}, what the console polls.
func (e *env) accountView(t *testing.T, c *agentClient) lpsim.AccountView {
	t.Helper()
	r := c.do(http.MethodGet, e.srv.URL+"/sim/accounts/"+acct, nil).expect(t, http.StatusOK)
	var v lpsim.AccountView
	must(t, json.Unmarshal(r.raw, &v))
	return v
}

func agentView(t *testing.T, v lpsim.AccountView, login string) lpsim.AgentView {
	t.Helper()
	for _, a := range v.Agents {
		if a.LoginName == login {
			return a
		}
	}
	t.Fatalf("agent %s not in %+v", login, v.Agents)
	return lpsim.AgentView{}
}

// TestAccountViewFollowsAChat reads the snapshot the console's agents pane
// shows through a chat's life: ringing, held, typing on both sides, ended.
func TestAccountViewFollowsAChat(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	ctl := e.client(t)

	r := ctl.do(http.MethodGet, e.srv.URL+"/sim/accounts", nil).expect(t, http.StatusOK)
	if got := list(t, r.doc, "accounts"); len(got) != 1 || got[0] != acct {
		t.Fatalf("accounts %v, want [%s]", got, acct)
	}

	v := e.accountView(t, ctl)
	if v.AccountID != acct || len(v.Skills) != 2 || v.Skills[0] != (lpsim.SkillView{ID: skillSup, Name: "Support"}) {
		t.Fatalf("account view %+v", v)
	}
	if a := agentView(t, v, "ann"); a.Availability != "Offline" || a.Sessions != 0 || a.MaxChats != 2 || a.Nickname != "Ann" {
		t.Fatalf("ann before login: %+v", a)
	}
	if len(v.Chats) != 0 {
		t.Fatalf("chats before any: %+v", v.Chats)
	}

	ann := e.online(t, "ann", annPass)
	chatID := e.startChat(t, lpsim.VisitorSpec{Name: "Jane", SkillID: skillSup})
	v = e.accountView(t, ctl)
	a := agentView(t, v, "ann")
	if a.Availability != "Online" || a.Sessions != 1 || !slices.Equal(a.Ringing, []string{chatID}) || len(a.Chats) != 0 {
		t.Fatalf("ann while ringing: %+v", a)
	}
	if b := agentView(t, v, "bob"); b.Availability != "Offline" || len(b.Ringing) != 0 {
		t.Fatalf("bob: %+v", b)
	}
	want := lpsim.ChatView{ChatID: chatID, State: "waiting", SkillID: skillSup, VisitorName: "Jane", RingingAt: "ann",
		AgentTyping: "not-typing", VisitorTyping: "not-typing"}
	if len(v.Chats) != 1 || v.Chats[0] != want {
		t.Fatalf("chats while ringing: %+v, want [%+v]", v.Chats, want)
	}

	chatURL := ann.accept()
	ann.put(chatURL+"/info/agentTyping", map[string]string{"agentTyping": "typing"}).expect(t, http.StatusCreated)
	ctl.do(http.MethodPost, e.srv.URL+"/sim/accounts/"+acct+"/chats/"+chatID+"/typing", map[string]bool{"typing": true}).expect(t, http.StatusOK)
	v = e.accountView(t, ctl)
	if a := agentView(t, v, "ann"); !slices.Equal(a.Chats, []string{chatID}) || len(a.Ringing) != 0 {
		t.Fatalf("ann after accept: %+v", a)
	}
	want.State, want.RingingAt, want.Agent, want.AgentTyping, want.VisitorTyping = "chatting", "", "ann", "typing", "typing"
	if len(v.Chats) != 1 || v.Chats[0] != want {
		t.Fatalf("chats after accept: %+v, want [%+v]", v.Chats, want)
	}

	must(t, e.sim.VisitorEnd(acct, chatID))
	v = e.accountView(t, ctl)
	if a := agentView(t, v, "ann"); len(a.Chats) != 0 || len(v.Chats) != 0 {
		t.Fatalf("after the visitor left: ann %+v, chats %+v", a, v.Chats)
	}
}

func TestAccountViewUnknownAccount(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	r := e.client(t).do(http.MethodGet, e.srv.URL+"/sim/accounts/999", nil).expect(t, http.StatusNotFound)
	if _, ok := r.doc["error"].(string); !ok {
		t.Fatalf("404 body %s, want {\"error\": ...}", r.raw)
	}
	if _, err := e.sim.Account("999"); err == nil {
		t.Fatal("Account(999): no error")
	}
}
