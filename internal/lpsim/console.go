package lpsim

import (
	"net/http"
	"slices"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim/console"
)

// AccountView is a snapshot of an account: what the visitor console's
// agents pane shows and what a test can read the same way.
type AccountView struct {
	AccountID string      `json:"accountId"`
	Skills    []SkillView `json:"skills"`
	Agents    []AgentView `json:"agents"` // in the order they were added
	Chats     []ChatView  `json:"chats"`  // chats not ended, oldest first
}

// SkillView is one skill of an account.
type SkillView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AgentView is what one agent is doing.
type AgentView struct {
	LoginName    string   `json:"loginName"`
	Nickname     string   `json:"nickname"`
	Availability string   `json:"availability"` // Online, Away, Occupied, or Offline without a live agent session
	Sessions     int      `json:"sessions"`     // live agent sessions
	MaxChats     int      `json:"maxChats"`     // -1 = unlimited
	SkillIDs     []string `json:"skillIds"`
	Ringing      []string `json:"ringing"` // ids of the chats ringing at it
	Chats        []string `json:"chats"`   // ids of the chats it is chatting in
}

// ChatView is one open chat as the visitor sees it.
type ChatView struct {
	ChatID        string `json:"chatId"`
	State         string `json:"state"`
	SkillID       string `json:"skillId,omitempty"`
	VisitorName   string `json:"visitorName"`
	Agent         string `json:"agent,omitempty"`     // login name of the agent chatting
	RingingAt     string `json:"ringingAt,omitempty"` // login name of the agent it rings at
	AgentTyping   string `json:"agentTyping"`         // typing, not-typing
	VisitorTyping string `json:"visitorTyping"`
}

// Accounts returns the ids of every account, sorted.
func (s *Simulator) Accounts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.accounts))
	for id := range s.accounts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Account returns a snapshot of the account's skills, agents and open chats.
func (s *Simulator) Account(accountID string) (AccountView, error) {
	var v AccountView
	err := s.locked(accountID, func(a *account, _ time.Time) error {
		v = AccountView{AccountID: a.id, Skills: []SkillView{}, Agents: []AgentView{}, Chats: []ChatView{}}
		for _, sk := range a.skills {
			v.Skills = append(v.Skills, SkillView{ID: sk.id, Name: sk.name})
		}
		for _, ag := range a.agents {
			av := AgentView{LoginName: ag.login, Nickname: ag.nickname, Availability: ag.state(), Sessions: len(ag.live),
				MaxChats: ag.maxChats, SkillIDs: slices.Clone(ag.skills), Ringing: []string{}, Chats: []string{}}
			for _, c := range a.open {
				switch {
				case c.ringing == ag:
					av.Ringing = append(av.Ringing, c.id)
				case c.state == stateChatting && c.holder == ag:
					av.Chats = append(av.Chats, c.id)
				}
			}
			v.Agents = append(v.Agents, av)
		}
		for _, c := range a.open {
			cv := ChatView{ChatID: c.id, State: c.state, SkillID: c.skillID, VisitorName: c.visitor.Name,
				AgentTyping: c.agentTyping, VisitorTyping: c.visitorTyping}
			if c.state == stateChatting && c.holder != nil {
				cv.Agent = c.holder.login
			}
			if c.ringing != nil {
				cv.RingingAt = c.ringing.login
			}
			v.Chats = append(v.Chats, cv)
		}
		return nil
	})
	if err != nil {
		return AccountView{}, err
	}
	return v, nil
}

// serveConsole serves the visitor console's page under console.Prefix and
// reports whether the request was for it. Like the control API it is not
// counted and never faulted.
func (s *Simulator) serveConsole(w http.ResponseWriter, r *http.Request) bool {
	if !console.Serves(r.URL.Path) {
		return false
	}
	console.Handler().ServeHTTP(w, r)
	return true
}

// serveConsoleControl serves the reads the console needs beyond the rest of
// the control API (GET /sim/accounts and GET /sim/accounts/{acct}) and
// reports whether it answered; segs is the path below /sim/.
func (s *Simulator) serveConsoleControl(w http.ResponseWriter, r *http.Request, segs []string) bool {
	if r.Method != http.MethodGet || segs[0] != "accounts" || len(segs) > 2 {
		return false
	}
	if len(segs) == 1 {
		writeReply(w, answer(http.StatusOK, map[string][]string{"accounts": s.Accounts()}))
		return true
	}
	v, err := s.Account(segs[1])
	if err != nil {
		controlError(w, err)
		return true
	}
	writeReply(w, answer(http.StatusOK, v))
	return true
}
