package lpsim

import (
	"net/http"
	"strconv"
	"strings"
)

// states lists the availabilities in the order of their numeric codes in
// availableAgents (§5.6): 1 Offline, 2 Online, 3 Occupied, 4 Away.
func states() [4]string { return [4]string{availOffline, availOnline, availOccupied, availAway} }

// stateCode returns the numeric code of an availability.
func stateCode(state string) string {
	for i, name := range states() {
		if name == state {
			return strconv.Itoa(i + 1)
		}
	}
	return "1"
}

// stateFilter turns a chatState/voiceState filter (name or code) into a
// code; "" matches everything.
func stateFilter(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	for i, name := range states() {
		if code := strconv.Itoa(i + 1); strings.EqualFold(v, name) || v == code {
			return code, true
		}
	}
	return "", false
}

type availableAgentDoc struct {
	ChatState      string         `json:"@chatState"`
	ID             string         `json:"@id"`
	MaxChats       string         `json:"@maxChats"`
	VoiceState     string         `json:"@voiceState"`
	Chats          string         `json:"chats"`
	Email          string         `json:"email"`
	Nickname       string         `json:"nickname"`
	PrivilegeGroup string         `json:"privilegeGroup"`
	Skills         map[string]any `json:"skills"`
	UserName       string         `json:"userName"`
}

// availableAgents answers GET {as}/availableAgents (§5.6): every agent of
// the account, filtered by skill name, chatState and voiceState (names or
// codes); chatReasonId and timeStamp are accepted and ignored.
func (s *Simulator) availableAgents(x *sessionCall) reply {
	if x.method != http.MethodGet {
		return x.methodNotAllowed(http.MethodGet)
	}
	chatCode, okChat := stateFilter(x.query.Get("chatState"))
	voiceCode, okVoice := stateFilter(x.query.Get("voiceState"))
	if !okChat || !okVoice {
		return x.fail(http.StatusBadRequest, "chatState and voiceState must be Online, Offline, Occupied or Away")
	}
	skillID := ""
	if name := x.query.Get("skill"); name != "" {
		sk := x.a.skillByName(name)
		if sk == nil {
			return x.fail(http.StatusBadRequest, "unknown skill name %q", name)
		}
		skillID = sk.id
	}
	var docs []availableAgentDoc
	for _, ag := range x.a.agents {
		code := stateCode(ag.state())
		if (chatCode != "" && code != chatCode) || (voiceCode != "" && voiceCode != stateCode(availOffline)) {
			continue
		}
		if skillID != "" && !ag.hasSkill(skillID) {
			continue
		}
		skills := map[string]any{}
		if v := oneOrMany(ag.skills); v != nil {
			skills["skill"] = v
		}
		docs = append(docs, availableAgentDoc{
			ChatState: code, ID: ag.id, MaxChats: strconv.Itoa(ag.maxChats),
			VoiceState: stateCode(availOffline), Chats: strconv.Itoa(len(ag.held)),
			Email: ag.email(), Nickname: ag.nickname, PrivilegeGroup: "agents",
			Skills: skills, UserName: ag.login,
		})
	}
	agents := map[string]any{}
	if v := oneOrMany(docs); v != nil {
		agents["agent"] = v
	}
	next := x.asURL + "/availableAgents?timeStamp=" + strconv.FormatInt(x.now.UnixMilli(), 10)
	return answer(http.StatusOK, map[string]any{"availableAgents": map[string]any{
		"agents": agents,
		"link":   link{next, "next"},
	}})
}

func (ag *agent) email() string {
	switch {
	case ag.spec.Email != "":
		return ag.spec.Email
	case strings.Contains(ag.login, "@"):
		return ag.login
	}
	return ag.login + "@lpsim.invalid"
}

// availableSlots answers GET {as}/chat/availableSlots (§5.7): the free
// capacity of the Online agents with the skill (or of one agent), -1 when
// any of them is unlimited. maxWaitTime is validated and otherwise ignored.
func (s *Simulator) availableSlots(x *sessionCall) reply {
	if x.method != http.MethodGet {
		return x.methodNotAllowed(http.MethodGet)
	}
	name, login, wait := x.query.Get("skill"), x.query.Get("agent"), x.query.Get("maxWaitTime")
	if login != "" && (name != "" || wait != "") {
		return x.fail(http.StatusBadRequest, "agent cannot be combined with skill or maxWaitTime")
	}
	if wait != "" {
		if n, err := strconv.Atoi(wait); err != nil || n < 0 || n > 86400 {
			return x.fail(http.StatusBadRequest, "maxWaitTime must be 0 to 86400 seconds")
		}
	}
	var agents []*agent
	switch {
	case login != "":
		ag := x.a.agentByLogin(login)
		if ag == nil {
			return x.fail(http.StatusBadRequest, "unknown agent %q", login)
		}
		agents = []*agent{ag}
	case name != "":
		sk := x.a.skillByName(name)
		if sk == nil {
			return x.fail(http.StatusBadRequest, "unknown skill name %q", name)
		}
		for _, ag := range x.a.agents {
			if ag.hasSkill(sk.id) {
				agents = append(agents, ag)
			}
		}
	default:
		agents = x.a.agents
	}
	slots := 0
	for _, ag := range agents {
		if ag.state() != availOnline {
			continue
		}
		f := ag.free(x.a.load(ag))
		if f < 0 {
			slots = -1
			break
		}
		slots += f
	}
	return answer(http.StatusOK, map[string]int{"availableSlots": slots})
}
