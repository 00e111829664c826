package lpsim

import (
	"net/http"
	"strconv"
	"strings"
)

// chatTimeoutSeconds is the chat info's chatTimeout (§5.16 example); the
// simulator reports it but does not end idle chats.
const chatTimeoutSeconds = 40

// chatFor finds a chat the agent may read: one it holds or has held. Chats
// of other agents, and chats only ringing at it, are 404.
func (s *Simulator) chatFor(x *sessionCall, id string) (*chat, *reply) {
	c := x.a.chats[id]
	if c == nil || !c.hadAgent(x.agent()) {
		rep := x.fail(http.StatusNotFound, "unknown chat")
		return nil, &rep
	}
	if rep := s.refuseMoved(x, c); rep != nil {
		return nil, rep
	}
	return c, nil
}

// holding checks that the agent may change the chat: 400 once it has ended,
// 403 when it is no longer the agent's (transferred or requeued).
func holding(x *sessionCall, c *chat) *reply {
	var rep reply
	switch {
	case c.state == stateEnded:
		rep = x.fail(http.StatusBadRequest, "chat has ended")
	case c.state != stateChatting || c.holder != x.agent():
		rep = x.fail(http.StatusForbidden, "chat is not with this agent any more")
	default:
		return nil
	}
	return &rep
}

// serveChat routes {chat} and its sub-resources.
func (s *Simulator) serveChat(x *sessionCall, id string, rest []string) reply {
	c, rep := s.chatFor(x, id)
	if rep != nil {
		return *rep
	}
	cx := &chatCall{sessionCall: x, c: c, url: x.asURL + "/chat/" + c.id}
	if len(rest) == 0 {
		if x.method != http.MethodGet {
			return x.methodNotAllowed(http.MethodGet)
		}
		return s.chatResource(cx)
	}
	switch strings.Join(rest, "/") {
	case "events":
		return s.events(cx)
	case "info":
		return s.chatInfo(cx)
	case "info/visitorName":
		return s.visitorName(cx)
	case "info/visitorTyping":
		return s.visitorTypingGet(cx)
	case "info/agentTyping":
		return s.agentTyping(cx)
	case "transfer":
		return s.transfer(cx)
	case "survey":
		return s.survey(cx)
	case "collaborationChannels", "transferAccount":
		return x.fail(http.StatusNotFound, "%s is not simulated", rest[0])
	}
	if len(rest) == 2 && rest[0] == "events" {
		return s.oneEvent(cx, rest[1])
	}
	return x.notFound()
}

// chatCall is a call on one chat of an agent session.
type chatCall struct {
	*sessionCall
	c   *chat
	url string // absolute URL of the chat under this agent session
}

// fromParam reads ?from=N (default 0).
func fromParam(x *sessionCall) (int, *reply) {
	v := x.query.Get("from")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		rep := x.fail(http.StatusBadRequest, "from must be a non-negative event id")
		return 0, &rep
	}
	return n, nil
}

// eventsFrom renders the events with id ≥ from and the from of the next poll.
func eventsFrom(c *chat, from int) ([]eventDoc, int) {
	var docs []eventDoc
	for _, e := range c.events[min(from, len(c.events)):] {
		docs = append(docs, e.doc())
	}
	return docs, max(from, len(c.events))
}

// eventsDoc is the events element: links, and event absent when empty.
type eventsDoc struct {
	Link  eventsLinks `json:"link"`
	Event any         `json:"event,omitempty"`
}

// eventsLinks are the links of the events element of the chat at url.
type eventsLinks struct {
	url  string
	next int // from of the next poll
}

func (l eventsLinks) list() []link {
	return []link{
		{l.url + "/events", "self"},
		{l.url + "/events?from=" + strconv.Itoa(l.next), "next"},
	}
}

func chatEvents(url string, c *chat, from int) (eventsDoc, int) {
	docs, next := eventsFrom(c, from)
	return eventsDoc{Link: eventsLinks{url: url, next: next}, Event: oneOrMany(docs)}, next
}

// chatDocument is the chat element of §5.11 (and of each chat of §5.12).
type chatDocument struct {
	Link   chatLinks `json:"link"`
	Events eventsDoc `json:"events"`
	Info   infoDoc   `json:"info"`
}

// chatLinks are the links of the chat at url under the agent session at
// asURL.
type chatLinks struct {
	url, asURL, visitID string
	next                int // from of the next poll
}

func (l chatLinks) list() []link {
	u := l.url
	return []link{
		{u, "self"},
		{u + "/events", "events"},
		{u + "/info", "info"},
		{u + "?from=" + strconv.Itoa(l.next), "next"},
		{u + "/collaborationChannels", "collaboration-channels"},
		{l.asURL + "/visits/visit/" + l.visitID, "visit-id"},
		{u + "/transfer", "transfer"},
		{u + "/transferAccount", "transfer-account"},
		{u + "/survey", "agent-survey"},
	}
}

func (cx *chatCall) document(from int) chatDocument {
	u, c := cx.url, cx.c
	events, next := chatEvents(u, c, from)
	return chatDocument{
		Link:   chatLinks{url: u, asURL: cx.asURL, visitID: c.visitID, next: next},
		Events: events,
		Info:   cx.info(),
	}
}

// chatResource answers GET {chat}[?from=N] (§5.11).
func (s *Simulator) chatResource(cx *chatCall) reply {
	from, rep := fromParam(cx.sessionCall)
	if rep != nil {
		return *rep
	}
	return answer(http.StatusOK, keyed{"chat", cx.document(from)})
}

// events answers GET {chat}/events[?from=N] (§5.13) and POST, which adds a
// line or ends the chat (§5.14, §5.15).
func (s *Simulator) events(cx *chatCall) reply {
	switch cx.method {
	case http.MethodGet:
		from, rep := fromParam(cx.sessionCall)
		if rep != nil {
			return *rep
		}
		doc, _ := chatEvents(cx.url, cx.c, from)
		return answer(http.StatusOK, keyed{"events", doc})
	case http.MethodPost:
		return s.postEvent(cx)
	}
	return cx.methodNotAllowed(http.MethodGet, http.MethodPost)
}

// oneEvent answers GET {chat}/events/{id}, the location of a posted event.
func (s *Simulator) oneEvent(cx *chatCall, idText string) reply {
	if cx.method != http.MethodGet {
		return cx.methodNotAllowed(http.MethodGet)
	}
	id, err := strconv.Atoi(idText)
	if err != nil || id < 0 || id >= len(cx.c.events) {
		return cx.fail(http.StatusNotFound, "unknown event")
	}
	return answer(http.StatusOK, keyed{"event", cx.c.events[id].doc()})
}

// multiChat answers GET {as}/chat?chatSessionKeys=A,B&fromEventIds=I,J
// (§5.12). fromEventIds are the last ids already seen: events with a larger
// id come back; a missing or negative id returns all. Keys of chats the agent
// cannot read are skipped. Links and events use the @ spelling.
func (s *Simulator) multiChat(x *sessionCall) reply {
	if x.method != http.MethodGet {
		return x.methodNotAllowed(http.MethodGet)
	}
	keys := splitList(x.query.Get("chatSessionKeys"))
	if len(keys) == 0 {
		return x.fail(http.StatusBadRequest, "chatSessionKeys is required")
	}
	froms := splitList(x.query.Get("fromEventIds"))
	if len(froms) > 0 && len(froms) != len(keys) {
		return x.fail(http.StatusBadRequest, "fromEventIds needs one id per chatSessionKey")
	}
	var chats []any
	for i, key := range keys {
		from := 0
		if len(froms) > 0 {
			last, err := strconv.Atoi(froms[i])
			if err != nil {
				return x.fail(http.StatusBadRequest, "fromEventIds must be event ids")
			}
			from = max(0, last+1)
		}
		c := x.a.chats[key]
		if c == nil || !c.hadAgent(x.agent()) {
			continue
		}
		if rep := s.refuseMovedMulti(x, c); rep != nil {
			return *rep
		}
		cx := &chatCall{sessionCall: x, c: c, url: x.asURL + "/chat/" + c.id}
		chats = append(chats, s.multiChatDoc(cx, from))
	}
	return answer(http.StatusOK, multiChatAnswer(chats))
}

func splitList(v string) []string {
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
