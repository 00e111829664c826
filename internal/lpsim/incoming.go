package lpsim

import (
	"net/http"
	"time"
)

// relAccept is the rel of the accept link in a ringing incomingRequests
// document; the real value is unconfirmed (§5.8), clients must not rely on it.
const relAccept = "accept"

// incomingRequests answers GET {as}/incomingRequests (§5.8, ringingCount as
// a string, link only while something rings) and POST, which accepts the
// oldest chat ringing at the agent (§5.9): 201 with chatLocation, or 404
// with an error body when nothing rings.
func (s *Simulator) incomingRequests(x *sessionCall) reply {
	ring := ringingAt(x.agent())
	switch x.method {
	case http.MethodGet:
		return answer(http.StatusOK, incomingAnswer{asURL: x.asURL, ringing: len(ring)})
	case http.MethodPost:
		var ignored any // {} or {"chat": "start"}, "for backwards compatibility"
		if rep := x.decode(&ignored, true); rep != nil {
			return *rep
		}
		if len(ring) == 0 {
			return x.fail(http.StatusNotFound, "no chat request is ringing for this agent")
		}
		c := ring[0]
		s.accept(x.a, c, x.agent(), x.now)
		return created("chatLocation", x.asURL+"/chat/"+c.id)
	}
	return x.methodNotAllowed(http.MethodGet, http.MethodPost)
}

// accept makes ag the chat's agent: state chatting + system line #3 (§6.5).
func (s *Simulator) accept(a *account, c *chat, ag *agent, now time.Time) {
	c.ringing, c.targetAgent, c.exclude, c.transferred = nil, nil, nil, false
	c.holder = ag
	if !c.hadAgent(ag) {
		c.participants = append(c.participants, ag)
	}
	c.agentTyping = typingOff
	c.addState(now, stateChatting)
	c.addSystemLine(now, sysAccepted, "You are now chatting with "+ag.nickname)
	s.log.Debug("lpsim: chat accepted", "account", a.id, "chat", c.id, "agent", ag.login)
}

// chatSessions answers GET {as}/chatSessions (§5.10): the chats the agent
// is chatting in, whichever of its agent sessions accepted them.
func (s *Simulator) chatSessions(x *sessionCall) reply {
	if x.method != http.MethodGet {
		return x.methodNotAllowed(http.MethodGet)
	}
	type entry struct {
		Link           link   `json:"link"`
		ChatSessionKey string `json:"chatSessionKey"`
		StartTime      int64  `json:"startTime"`
	}
	var entries []entry
	for _, c := range x.agent().held {
		entries = append(entries, entry{
			Link:           link{x.asURL + "/chat/" + c.id, "chat-session"},
			ChatSessionKey: c.id, StartTime: c.start.UnixMilli(),
		})
	}
	body := map[string]any{}
	if v := oneOrMany(entries); v != nil {
		body["chatSession"] = v
	}
	return answer(http.StatusOK, map[string]any{"chatSessions": body})
}
