package lpsim

import (
	"net/http"
	"strconv"
)

// infoDoc is the chat information of §5.11 and §5.16: numbers where the
// reference shows numbers (agentId, chatTimeout, visitorId, rtSessionId).
type infoDoc struct {
	Link           infoLinks `json:"link"`
	State          string    `json:"state"`
	ChatSessionKey string    `json:"chatSessionKey"`
	AgentName      string    `json:"agentName,omitempty"`
	AgentID        *int64    `json:"agentId,omitempty"`
	StartTime      string    `json:"startTime"`
	Duration       int       `json:"duration"`
	LastUpdate     string    `json:"lastUpdate"`
	ChatTimeout    int       `json:"chatTimeout"`
	VisitorID      int64     `json:"visitorId"`
	AgentTyping    string    `json:"agentTyping"`
	VisitorTyping  string    `json:"visitorTyping"`
	VisitorName    string    `json:"visitorName"`
	RTSessionID    int64     `json:"rtSessionId"`
	ParticipantID  string    `json:"participantId,omitempty"`
	SharkVisitorID string    `json:"sharkVisitorId"`
	SharkSessionID string    `json:"sharkSessionId"`
	SharkContextID int       `json:"sharkContextId"`
	EngagementID   int64     `json:"engagementId"`
	CampaignID     int64     `json:"campaignId"`
	Language       string    `json:"language"`
}

// infoLinks are the links of the info of the chat at url.
type infoLinks struct {
	url string
}

func (l infoLinks) list() []link {
	u := l.url + "/info"
	return []link{
		{u, "self"},
		{u + "/visitorName", "visitor-name"},
		{u + "/visitorTyping", "visitor-typing"},
		{u + "/agentTyping", "agent-typing"},
	}
}

// info renders the chat's information; agentName/agentId are absent while
// no agent has the chat (waiting).
func (cx *chatCall) info() infoDoc {
	c := cx.c
	d := infoDoc{
		Link:  infoLinks{url: cx.url},
		State: c.state, ChatSessionKey: c.id,
		StartTime: isoTime(c.start), LastUpdate: isoTime(c.lastUpdate),
		ChatTimeout: chatTimeoutSeconds, VisitorID: c.visitorID,
		AgentTyping: c.agentTyping, VisitorTyping: c.visitorTyping, VisitorName: c.visitor.Name,
		RTSessionID: c.rtSessionID, ParticipantID: c.participantID,
		SharkVisitorID: c.sharkVisitor, SharkSessionID: c.sharkSession, SharkContextID: 1,
		EngagementID: c.engagementID, CampaignID: c.campaignID, Language: "en-US",
	}
	if c.holder != nil {
		d.AgentName = c.holder.nickname
		if id, err := strconv.ParseInt(c.holder.id, 10, 64); err == nil {
			d.AgentID = &id
		}
	}
	return d
}

// chatInfo answers GET {chat}/info (§5.16).
func (s *Simulator) chatInfo(cx *chatCall) reply {
	if cx.method != http.MethodGet {
		return cx.methodNotAllowed(http.MethodGet)
	}
	return answer(http.StatusOK, keyed{"info", cx.info()})
}

// visitorName answers GET {chat}/info/visitorName with {"visitorName": ...}
// (§5.17; the wrapper is our choice).
func (s *Simulator) visitorName(cx *chatCall) reply {
	if cx.method != http.MethodGet {
		return cx.methodNotAllowed(http.MethodGet)
	}
	return answer(http.StatusOK, map[string]string{"visitorName": cx.c.visitor.Name})
}

// visitorTypingGet answers GET {chat}/info/visitorTyping (§5.18).
func (s *Simulator) visitorTypingGet(cx *chatCall) reply {
	if cx.method != http.MethodGet {
		return cx.methodNotAllowed(http.MethodGet)
	}
	return answer(http.StatusOK, map[string]string{"visitorTyping": cx.c.visitorTyping})
}

// agentTyping answers GET {chat}/info/agentTyping and PUT (POST + override)
// with {"agentTyping": "typing"|"not-typing"|"unknown"} → 201 (§5.18).
// Typing changes only the info, never the events.
func (s *Simulator) agentTyping(cx *chatCall) reply {
	switch cx.method {
	case http.MethodGet:
		return answer(http.StatusOK, map[string]string{"agentTyping": cx.c.agentTyping})
	case http.MethodPut:
		var body struct {
			AgentTyping string `json:"agentTyping"`
		}
		if rep := cx.decode(&body, false); rep != nil {
			return *rep
		}
		switch body.AgentTyping {
		case typingOn, typingOff, typingUnknown:
		default:
			return cx.fail(http.StatusBadRequest, "agentTyping must be typing, not-typing or unknown")
		}
		if rep := holding(cx.sessionCall, cx.c); rep != nil {
			return *rep
		}
		cx.c.agentTyping = body.AgentTyping
		cx.c.lastUpdate = cx.now
		return answer(http.StatusCreated, map[string]string{"agentTyping": body.AgentTyping})
	}
	return cx.methodNotAllowed(http.MethodGet, http.MethodPut)
}
