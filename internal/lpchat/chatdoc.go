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

// wireEvent is one event element (§6).
type wireEvent struct {
	AtID            *flexInt        `json:"@id"`
	ID              *flexInt        `json:"id"`
	AtType          flexString      `json:"@type"`
	Type            flexString      `json:"type"`
	Time            flexTime        `json:"time"`
	Text            looseString     `json:"text"`
	TextType        flexString      `json:"textType"`
	By              flexString      `json:"by"`
	Source          flexString      `json:"source"`
	SystemMessageID flexInt         `json:"systemMessageId"`
	SubType         flexString      `json:"subType"`
	JSON            json.RawMessage `json:"json"`
	State           flexString      `json:"state"`
}

// errEventID reports an event without a usable id.
var errEventID = errors.New("event without an id")

// event converts the element; an id is required (it is the cursor).
func (w wireEvent) event() (Event, error) {
	var id *flexInt
	switch {
	case w.AtID != nil:
		id = w.AtID
	case w.ID != nil:
		id = w.ID
	}
	if id == nil || *id < 0 || *id > 1<<31-1 {
		return Event{}, errEventID
	}
	typ := w.AtType
	if typ == "" {
		typ = w.Type
	}
	e := Event{
		ID: int(*id), Type: EventType(typ), Time: time.Time(w.Time), Text: string(w.Text),
		TextType: TextType(w.TextType), By: string(w.By), Source: Source(w.Source),
		SystemMessageID: SystemMessage(w.SystemMessageID), SubType: SubType(w.SubType), State: ChatState(w.State),
	}
	if j := bytes.TrimSpace(w.JSON); len(j) > 0 && !bytes.Equal(j, []byte("null")) {
		e.JSON = append(json.RawMessage(nil), j...)
	}
	return e, nil
}

// wireEvents is an events element: links plus event(s) (§5.13).
type wireEvents struct {
	Link  links                `json:"link"`
	Event oneOrMany[wireEvent] `json:"event"`
}

// convert returns the events and the next link's from (-1 if none).
func (w wireEvents) convert() ([]Event, int, error) {
	evs := make([]Event, 0, len(w.Event))
	for _, we := range w.Event {
		e, err := we.event()
		if err != nil {
			return nil, 0, err
		}
		evs = append(evs, e)
	}
	next := -1
	if h, ok := findLink(w.Link, relNext); ok {
		if n, ok := fromParam(h); ok {
			next = n
		}
	}
	return evs, next, nil
}

// wireChatInfo is a chat info element (§5.16).
type wireChatInfo struct {
	State          flexString `json:"state"`
	ChatSessionKey flexString `json:"chatSessionKey"`
	AgentName      flexString `json:"agentName"`
	AgentID        flexString `json:"agentId"`
	StartTime      flexTime   `json:"startTime"`
	LastUpdate     flexTime   `json:"lastUpdate"`
	ChatTimeout    flexInt    `json:"chatTimeout"`
	VisitorID      flexString `json:"visitorId"`
	VisitorName    flexString `json:"visitorName"`
	AgentTyping    flexString `json:"agentTyping"`
	VisitorTyping  flexString `json:"visitorTyping"`
	RTSessionID    flexString `json:"rtSessionId"`
	ParticipantID  flexString `json:"participantId"`
	EngagementID   flexString `json:"engagementId"`
	CampaignID     flexString `json:"campaignId"`
	Language       flexString `json:"language"`
	SkillID        flexString `json:"skillId"`
	SkillName      flexString `json:"skillName"`
}

// info converts the element.
func (w wireChatInfo) info() ChatInfo {
	return ChatInfo{
		State: string(w.State), ChatSessionKey: string(w.ChatSessionKey),
		AgentName: string(w.AgentName), AgentID: string(w.AgentID),
		StartTime: time.Time(w.StartTime), LastUpdate: time.Time(w.LastUpdate),
		ChatTimeout: int(w.ChatTimeout), VisitorID: string(w.VisitorID),
		VisitorName: string(w.VisitorName), AgentTyping: string(w.AgentTyping),
		VisitorTyping: string(w.VisitorTyping), RTSessionID: string(w.RTSessionID),
		ParticipantID: string(w.ParticipantID), EngagementID: string(w.EngagementID),
		CampaignID: string(w.CampaignID), Language: string(w.Language),
		SkillID: string(w.SkillID), SkillName: string(w.SkillName),
	}
}

// wireChat is a chat element (§5.11) or one chat of §5.12.
type wireChat struct {
	Link   links               `json:"link"`
	Events maybe[wireEvents]   `json:"events"`
	Info   maybe[wireChatInfo] `json:"info"`
	Error  json.RawMessage     `json:"error"` // the sample app checks body.chat.error
}

// chat converts the element. as is {as} for building the chat's URL.
func (w wireChat) chat(as string) (Chat, error) {
	c := Chat{Links: linkMap(w.Link), NextFrom: -1}
	if h, ok := c.Links[relSelf]; ok {
		c.ID = lastSegment(h)
	}
	if w.Info.Present {
		info := w.Info.V.info()
		c.Info = &info
		if c.ID == "" {
			c.ID = info.ChatSessionKey
		}
	}
	if w.Events.Present {
		evs, next, err := w.Events.V.convert()
		if err != nil {
			return Chat{}, err
		}
		c.Events, c.NextFrom = evs, next
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
	c.setID(c.ID, as)
	return c, nil
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
	c, err := doc.Chat.V.chat(as)
	if err != nil {
		return nil, err
	}
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
		c, err := w.chat(as)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// decodeEvents decodes {"events": {...}} (§5.13): the events and the next
// link's from (-1 if none).
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
	return doc.Events.V.convert()
}
