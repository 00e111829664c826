package lpsim

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// startAgentSession answers POST {base}/agentSession (§5.1): any loginData,
// or an empty body, is accepted.
func (s *Simulator) startAgentSession(a *account, c *call, who caller) reply {
	var body json.RawMessage
	if rep := c.decode(&body, true); rep != nil {
		return *rep
	}
	id := digits(s.ids.sessions, 10)
	for a.sessions[id] != nil {
		id = digits(s.ids.sessions, 10)
	}
	as := &agentSession{id: id, agent: who.agent, login: who.login, lastActivity: c.now}
	if !who.signed {
		as.cookie = secretHex(16)
	}
	ag := who.agent
	if len(ag.live) == 0 {
		ag.availability = availAway // a fresh agent starts Away (§7)
	}
	ag.live = append(ag.live, as)
	a.agentChanged()
	earlier(&a.sessionDue, c.now.Add(s.cfg.SessionIdleTimeout))
	a.sessions[id] = as
	if who.login != nil {
		who.login.sessions = append(who.login.sessions, as)
	}
	s.log.Debug("lpsim: agent session started", "account", a.id, "agent", ag.login, "session", id)
	href := c.base + "/api/account/" + a.id + "/agentSession/" + id
	rep := created("agentSessionLocation", href)
	if as.cookie != "" {
		rep.cookies = []*http.Cookie{{
			Name: AgentSessionCookieName(id), Value: as.cookie,
			Path: "/api/account/" + a.id + "/agentSession", HttpOnly: true,
		}}
	}
	return rep
}

// sessionRoot answers GET {as} with the hub of links (§5.2) and DELETE {as}
// (POST + X-HTTP-Method-Override: DELETE) by ending the session.
func (s *Simulator) sessionRoot(x *sessionCall) reply {
	switch x.method {
	case http.MethodGet:
		u := x.asURL
		return answer(http.StatusOK, map[string]any{"agentSession": map[string]any{"link": []link{
			{u, "self"},
			{u + "/availability", "availability"},
			{u + "/incomingRequests", "incoming-requests"},
			{u + "/chatSessions", "chat-sessions"},
			{u + "/info", "info"},
			{u + "/availableAgents", "available-agents"},
			{u + "/chat/availableSlots", "chat-available-slots"},
		}}})
	case http.MethodDelete:
		s.endSession(x.a, x.as, x.now, "deleted")
		s.route(x.a, x.now)
		return reply{status: http.StatusOK}
	}
	return x.methodNotAllowed(http.MethodGet, http.MethodDelete)
}

// availabilityDoc is {"availability": {"chat": ..., "voice": ...}}.
type availabilityDoc struct {
	Availability availabilityBody `json:"availability"`
}

type availabilityBody struct {
	Chat  string `json:"chat"`
	Voice string `json:"voice"`
}

func agentAvailability(ag *agent) availabilityDoc {
	return availabilityDoc{availabilityBody{Chat: ag.state(), Voice: availOffline}}
}

// availability answers GET and PUT {as}/availability (§5.3, §5.4). A plain
// POST without the override header is refused with 405 so that a client
// forgetting the header notices.
func (s *Simulator) availability(x *sessionCall) reply {
	ag := x.agent()
	switch x.method {
	case http.MethodGet:
		return answer(http.StatusOK, agentAvailability(ag))
	case http.MethodPut:
		var body struct {
			Availability *struct {
				Chat string `json:"chat"`
			} `json:"availability"`
		}
		if rep := x.decode(&body, false); rep != nil {
			return *rep
		}
		if body.Availability == nil {
			return x.fail(http.StatusBadRequest, "availability element is required")
		}
		switch v := body.Availability.Chat; v {
		case availOnline, availAway, availOccupied:
			ag.availability = v
			x.a.agentChanged()
		default:
			return x.fail(http.StatusBadRequest, "availability.chat must be Online, Away or Occupied, not %q", v)
		}
		s.log.Debug("lpsim: availability set", "account", x.a.id, "agent", ag.login, "chat", ag.availability)
		s.route(x.a, x.now)
		return answer(http.StatusOK, agentAvailability(ag))
	}
	return x.methodNotAllowed(http.MethodGet, http.MethodPut)
}

// agentInfo answers GET {as}/info (§5.5).
func (s *Simulator) agentInfo(x *sessionCall) reply {
	if x.method != http.MethodGet {
		return x.methodNotAllowed(http.MethodGet)
	}
	ag := x.agent()
	type skillInfo struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	var skills []skillInfo
	for _, id := range ag.skills {
		if sk := x.a.skillByID(id); sk != nil {
			skills = append(skills, skillInfo{sk.id, sk.name})
		}
	}
	type info struct {
		Link         link             `json:"link"`
		AgentName    string           `json:"agentName"`
		DisplayName  string           `json:"displayName"`
		LoginName    string           `json:"loginName"`
		ID           string           `json:"id"`
		MaxChats     string           `json:"maxChats"`
		Availability availabilityBody `json:"availability"`
		SkillsInfo   map[string]any   `json:"skillsInfo"`
	}
	skillsInfo := map[string]any{}
	if v := oneOrMany(skills); v != nil {
		skillsInfo["skillInfo"] = v
	}
	return answer(http.StatusOK, map[string]info{"info": {
		Link:      link{x.asURL + "/info", "self"},
		AgentName: ag.nickname, DisplayName: ag.nickname, LoginName: ag.login,
		ID: ag.id, MaxChats: strconv.Itoa(ag.maxChats),
		Availability: agentAvailability(ag).Availability,
		SkillsInfo:   skillsInfo,
	}})
}
