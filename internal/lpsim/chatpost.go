package lpsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// postedEvent is the body of POST {chat}/events (§5.14, §5.15).
type postedEvent struct {
	Event *struct {
		Type     string          `json:"@type"`
		Text     string          `json:"text"`
		TextType string          `json:"textType"`
		SubType  string          `json:"subType"`
		JSON     json.RawMessage `json:"json"`
		State    string          `json:"state"`
	} `json:"event"`
}

// postEvent adds one agent line (201 chatEventLocation) or ends the chat
// (201 chatLocation). Any POST to an ended chat is 400.
func (s *Simulator) postEvent(cx *chatCall) reply {
	var body postedEvent
	if rep := cx.decode(&body, false); rep != nil {
		return *rep
	}
	if rep := holding(cx.sessionCall, cx.c); rep != nil {
		return *rep
	}
	ev := body.Event
	if ev == nil {
		return cx.fail(http.StatusBadRequest, "event element is required")
	}
	switch ev.Type {
	case "line":
		e, msg := agentLine(ev.Text, ev.TextType, ev.SubType, ev.JSON)
		if msg != "" {
			return cx.fail(http.StatusBadRequest, "%s", msg)
		}
		e.by = cx.agent().nickname
		id := cx.c.appendEvent(cx.now, e)
		return created("chatEventLocation", cx.url+"/events/"+strconv.Itoa(id))
	case "state":
		if ev.State != stateEnded {
			return cx.fail(http.StatusBadRequest, "an agent can only set the state to ended, not %q", ev.State)
		}
		id := s.endByAgent(cx.a, cx.c, cx.agent(), cx.now)
		return created("chatLocation", cx.url+"/events/"+strconv.Itoa(id))
	}
	return cx.fail(http.StatusBadRequest, "event @type must be line or state, not %q", ev.Type)
}

// agentLine validates a line an agent sends; msg is non-empty when invalid.
func agentLine(text, textType, subType string, payload json.RawMessage) (e event, msg string) {
	e = event{typ: "line", text: text, textType: textType, subType: subType, source: "agent"}
	if e.textType == "" {
		e.textType = "plain"
	}
	if e.subType == "" {
		e.subType = "REGULAR"
	}
	if e.subType != "REGULAR" && e.subType != "ONLY_TO_REP" {
		return e, "subType must be REGULAR or ONLY_TO_REP"
	}
	switch e.textType {
	case "plain":
		if text == "" {
			return e, "text is required"
		}
	case "html":
		if text == "" {
			return e, "text is required"
		}
		if lower := strings.ToLower(text); strings.Contains(lower, "<script") || strings.Contains(lower, "<iframe") {
			return e, "html lines must not contain scripts or iframes"
		}
	case "rich-content":
		var compact bytes.Buffer
		if len(payload) == 0 || payload[0] != '{' || json.Compact(&compact, payload) != nil {
			return e, "rich-content lines need a json object"
		}
		e.json = compact.Bytes()
	default:
		return e, "textType must be plain, html or rich-content"
	}
	return e, ""
}

// endByAgent closes a chat: state ended + system line #5 (§6.5). It returns
// the id of the state event.
func (s *Simulator) endByAgent(a *account, c *chat, ag *agent, now time.Time) int {
	id := c.addState(now, stateEnded)
	c.addSystemLine(now, sysAgentEnded, ag.nickname+" has left the chat")
	s.closeChat(a, c, now)
	s.log.Debug("lpsim: chat ended by agent", "account", a.id, "chat", c.id, "agent", ag.login)
	return id
}

// closeChat takes an ended chat out of routing; its agent has room again.
func (s *Simulator) closeChat(a *account, c *chat, now time.Time) {
	c.ringing, c.targetAgent = nil, nil
	c.reindex()
	c.agentTyping, c.visitorTyping = typingOff, typingOff
	a.dropOpen(c)
	s.route(a, now)
}
