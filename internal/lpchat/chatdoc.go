package lpchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Wire shapes of the chat documents (chat-agent-api.md §5.11-5.13, §5.16)
// and their conversion to the domain types. Every attribute is accepted
// with and without "@" (§5.12 spells them without).

// looseString decodes a string, number or boolean as text, and an object or
// array as its JSON text, so one odd value does not sink a whole document.
type looseString string

// UnmarshalJSON accepts any JSON value.
func (s *looseString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return err
		}
		*s = looseString(buf.String())
		return nil
	}
	var f flexString
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*s = looseString(f)
	return nil
}

// wireEvent is one event element (§6). Its scalars are soft: an odd one is
// left out and reported, the rest of the event is kept.
type wireEvent struct {
	AtID            *softInt        `json:"@id"`
	ID              *softInt        `json:"id"`
	AtType          softString      `json:"@type"`
	Type            softString      `json:"type"`
	Time            softTime        `json:"time"`
	Text            looseString     `json:"text"`
	TextType        softString      `json:"textType"`
	By              softString      `json:"by"`
	Source          softString      `json:"source"`
	SystemMessageID softInt         `json:"systemMessageId"`
	SubType         softString      `json:"subType"`
	JSON            json.RawMessage `json:"json"`
	State           softString      `json:"state"`
}

// errEventID reports an event without a usable id.
var errEventID = errors.New("event without an id")

// event converts the element; an id is required (it is the cursor), so an
// event without one is left out (ok false) and reported.
func (w wireEvent) event(s *skips) (Event, bool) {
	var id *softInt
	switch {
	case w.AtID != nil && w.AtID.Err == nil:
		id = w.AtID
	case w.ID != nil && w.ID.Err == nil:
		id = w.ID
	}
	if id == nil || id.V < 0 || id.V > 1<<31-1 {
		s.note("event.id", errEventID)
		return Event{}, false
	}
	str := func(field string, v softString) string {
		s.note(field, v.Err)
		return string(v.V)
	}
	typ := str("event.type", w.AtType)
	if typ == "" {
		typ = str("event.type", w.Type)
	}
	s.note("event.time", w.Time.Err)
	s.note("event.systemMessageId", w.SystemMessageID.Err)
	e := Event{
		ID: int(id.V), Type: EventType(typ), Time: time.Time(w.Time.V), Text: string(w.Text),
		TextType: TextType(str("event.textType", w.TextType)), By: str("event.by", w.By),
		Source: Source(str("event.source", w.Source)), SystemMessageID: SystemMessage(w.SystemMessageID.V),
		SubType: SubType(str("event.subType", w.SubType)), State: ChatState(str("event.state", w.State)),
	}
	if j := bytes.TrimSpace(w.JSON); len(j) > 0 && !bytes.Equal(j, []byte("null")) {
		e.JSON = append(json.RawMessage(nil), j...)
	}
	return e, true
}

// eventElem is one event element that may not even be an object; such an
// element is left out and reported.
type eventElem struct {
	w   wireEvent
	err error
}

// UnmarshalJSON decodes the event; a failure is kept, not returned.
func (e *eventElem) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &e.w); err != nil {
		e.w, e.err = wireEvent{}, err
	}
	return nil
}

// wireEvents is an events element: links plus event(s) (§5.13).
type wireEvents struct {
	Link  links                `json:"link"`
	Event oneOrMany[eventElem] `json:"event"`
}

// convert returns the events and the next link's from (-1 if none); what
// did not decode goes to s.
func (w wireEvents) convert(s *skips) ([]Event, int) {
	evs := make([]Event, 0, len(w.Event))
	for _, el := range w.Event {
		if el.err != nil {
			s.note("event", el.err)
			continue
		}
		if e, ok := el.w.event(s); ok {
			evs = append(evs, e)
		}
	}
	for _, l := range w.Link {
		l.note(s)
	}
	next := -1
	if h, ok := findLink(w.Link, relNext); ok {
		if n, ok := fromParam(h); ok {
			next = n
		}
	}
	return evs, next
}

// wireChatInfo is a chat info element (§5.16), its scalars soft.
type wireChatInfo struct {
	State          softString `json:"state"`
	ChatSessionKey softString `json:"chatSessionKey"`
	AgentName      softString `json:"agentName"`
	AgentID        softString `json:"agentId"`
	StartTime      softTime   `json:"startTime"`
	LastUpdate     softTime   `json:"lastUpdate"`
	ChatTimeout    softInt    `json:"chatTimeout"`
	VisitorID      softString `json:"visitorId"`
	VisitorName    softString `json:"visitorName"`
	AgentTyping    softString `json:"agentTyping"`
	VisitorTyping  softString `json:"visitorTyping"`
	RTSessionID    softString `json:"rtSessionId"`
	ParticipantID  softString `json:"participantId"`
	EngagementID   softString `json:"engagementId"`
	CampaignID     softString `json:"campaignId"`
	Language       softString `json:"language"`
	SkillID        softString `json:"skillId"`
	SkillName      softString `json:"skillName"`
}

// info converts the element, leaving out what did not decode.
func (w wireChatInfo) info() ChatInfo {
	var s skips
	return w.convert(&s)
}

// convert converts the element; what did not decode goes to s.
func (w wireChatInfo) convert(s *skips) ChatInfo {
	str := func(field string, v softString) string {
		s.note("info."+field, v.Err)
		return string(v.V)
	}
	s.note("info.startTime", w.StartTime.Err)
	s.note("info.lastUpdate", w.LastUpdate.Err)
	s.note("info.chatTimeout", w.ChatTimeout.Err)
	return ChatInfo{
		State: str("state", w.State), ChatSessionKey: str("chatSessionKey", w.ChatSessionKey),
		AgentName: str("agentName", w.AgentName), AgentID: str("agentId", w.AgentID),
		StartTime: time.Time(w.StartTime.V), LastUpdate: time.Time(w.LastUpdate.V),
		ChatTimeout: int(w.ChatTimeout.V), VisitorID: str("visitorId", w.VisitorID),
		VisitorName: str("visitorName", w.VisitorName), AgentTyping: str("agentTyping", w.AgentTyping),
		VisitorTyping: str("visitorTyping", w.VisitorTyping), RTSessionID: str("rtSessionId", w.RTSessionID),
		ParticipantID: str("participantId", w.ParticipantID), EngagementID: str("engagementId", w.EngagementID),
		CampaignID: str("campaignId", w.CampaignID), Language: str("language", w.Language),
		SkillID: str("skillId", w.SkillID), SkillName: str("skillName", w.SkillName),
	}
}

// wireChat is a chat element (§5.11) or one chat of §5.12. Its events and
// info are decoded on their own, so that an element of an odd shape costs
// that element only.
type wireChat struct {
	Link   links           `json:"link"`
	Events json.RawMessage `json:"events"`
	Info   json.RawMessage `json:"info"`
	Error  json.RawMessage `json:"error"` // the sample app checks body.chat.error
}

// chat converts the element. as is {as} for building the chat's URL.
func (w wireChat) chat(as string) Chat {
	var s skips
	c := Chat{Links: linkMap(w.Link), NextFrom: -1}
	for _, l := range w.Link {
		l.note(&s)
	}
	if h, ok := c.Links[relSelf]; ok {
		c.ID = lastSegment(h)
	}
	var info maybe[wireChatInfo]
	if len(w.Info) > 0 {
		s.note("info", json.Unmarshal(w.Info, &info))
	}
	if info.Present {
		ci := info.V.convert(&s)
		c.Info = &ci
		if c.ID == "" {
			c.ID = ci.ChatSessionKey
		}
	}
	var evs maybe[wireEvents]
	if len(w.Events) > 0 {
		s.note("events", json.Unmarshal(w.Events, &evs))
	}
	if evs.Present {
		c.Events, c.NextFrom = evs.V.convert(&s)
	}
	if c.NextFrom < 0 {
		if h, ok := c.Links[relNext]; ok {
			if n, ok := fromParam(h); ok {
				c.NextFrom = n
			}
		}
	}
	if h, ok := c.Links[relVisitID]; ok {
		c.VisitID = lastSegment(h)
	}
	if len(bytes.TrimSpace(w.Error)) > 0 && !isEmptyElement(bytes.TrimSpace(w.Error)) {
		if msg, ok := stringish(w.Error, "message"); ok && msg != "" {
			c.Error = msg
		} else {
			var buf bytes.Buffer
			if json.Compact(&buf, w.Error) == nil {
				c.Error = buf.String()
			}
		}
	}
	c.Skipped = s
	c.setID(c.ID, as)
	return c
}

// setID sets the chat's id and the values derived from it.
func (c *Chat) setID(id, as string) {
	c.ID = id
	if id != "" && as != "" {
		c.URL = as + "/chat/" + url.PathEscape(id)
	}
	if c.VisitID == "" {
		// LivePerson's Postman collection derives the visit id so (§2.4).
		c.VisitID = VisitIDOf(id)
	}
}

// decodeChat decodes {"chat": {...}} (§5.11).
func decodeChat(b []byte, as string) (*Chat, error) {
	var doc struct {
		Chat *maybe[wireChat] `json:"chat"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Chat == nil || !doc.Chat.Present {
		return nil, fmt.Errorf("chat element missing")
	}
	c := doc.Chat.V.chat(as)
	return &c, nil
}

// decodeChats decodes {"chats": {"chat": one or many}} (§5.12).
func decodeChats(b []byte, as string) ([]Chat, error) {
	var doc struct {
		Chats *maybe[struct {
			Chat oneOrMany[wireChat] `json:"chat"`
		}] `json:"chats"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Chats == nil {
		return nil, fmt.Errorf("chats element missing")
	}
	out := make([]Chat, 0, len(doc.Chats.V.Chat))
	for _, w := range doc.Chats.V.Chat {
		out = append(out, w.chat(as))
	}
	return out, nil
}

// decodeEvents decodes {"events": {...}} (§5.13): the events and the next
// link's from (-1 if none). Events without an id are left out.
func decodeEvents(b []byte) ([]Event, int, error) {
	var doc struct {
		Events *maybe[wireEvents] `json:"events"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, 0, err
	}
	if doc.Events == nil {
		return nil, 0, fmt.Errorf("events element missing")
	}
	var s skips
	evs, next := doc.Events.V.convert(&s)
	return evs, next, nil
}
