package lpchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Wire shapes of the chat documents (chat-agent-api.md §5.11-5.13, §5.16)
// and their conversion to the domain types. Every attribute is accepted
// with and without "@" (§5.12 spells them without).

// loose reads a text: a string, number or boolean as text, and an object
// or array as its JSON text, so one odd value does not sink a whole document.
func (r *docReader) loose(s *string) error {
	v, err := r.dec.ReadValue()
	if err != nil {
		return err
	}
	if v[0] == '{' || v[0] == '[' {
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return err
		}
		*s = buf.String()
		return nil
	}
	var f flexString
	if err := f.UnmarshalJSON(v); err != nil {
		return err
	}
	*s = string(f)
	return nil
}

// wireEvent is one event element (§6). Its scalars are soft: an odd one is
// left out and reported, the rest of the event is kept.
type wireEvent struct {
	AtID, ID        optInt
	AtType, Type    softString
	Time            softTime
	Text            string
	TextType        softString
	By              softString
	Source          softString
	SystemMessageID softInt
	SubType         softString
	JSON            json.RawMessage // a copy; nil when absent or null
	State           softString
}

// optInt is a softInt that may be absent or null.
type optInt struct {
	V  softInt
	OK bool // the member was there and not null
}

// eventFields are the members of an event element that are read.
var eventFields = []string{"@id", "id", "@type", "type", "time", "text", "textType", "by", "source",
	"systemMessageId", "subType", "json", "state"}

// readOptInt reads an id: null leaves it absent.
func (r *docReader) readOptInt(o *optInt) error {
	v, err := r.dec.ReadValue()
	if err != nil {
		return err
	}
	*o = optInt{}
	if string(v) == "null" {
		return nil
	}
	o.OK = true
	var f flexInt
	if err := f.UnmarshalJSON(v); err != nil {
		o.V.Err = err
		return nil
	}
	o.V.V = f
	return nil
}

// readEvent reads one event element, an object or null.
func (r *docReader) readEvent() (wireEvent, error) {
	var w wireEvent
	err := r.objectOrNull(eventFields, func(f string) error {
		switch f {
		case "@id":
			return r.readOptInt(&w.AtID)
		case "id":
			return r.readOptInt(&w.ID)
		case "@type":
			return r.str(&w.AtType)
		case "type":
			return r.str(&w.Type)
		case "time":
			return r.time(&w.Time)
		case "text":
			return r.loose(&w.Text)
		case "textType":
			return r.str(&w.TextType)
		case "by":
			return r.str(&w.By)
		case "source":
			return r.str(&w.Source)
		case "systemMessageId":
			return r.int(&w.SystemMessageID)
		case "subType":
			return r.str(&w.SubType)
		case "json":
			var err error
			w.JSON, err = r.rawValue()
			return err
		}
		return r.str(&w.State)
	})
	return w, err
}

// errEventID reports an event without a usable id.
var errEventID = errors.New("event without an id")

// event converts the element; an id is required (it is the cursor), so an
// event without one is left out (ok false) and reported.
func (w wireEvent) event(s *skips) (Event, bool) {
	var id *softInt
	switch {
	case w.AtID.OK && w.AtID.V.Err == nil:
		id = &w.AtID.V
	case w.ID.OK && w.ID.V.Err == nil:
		id = &w.ID.V
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
		ID: int(id.V), Type: EventType(typ), Time: time.Time(w.Time.V), Text: w.Text,
		TextType: TextType(str("event.textType", w.TextType)), By: str("event.by", w.By),
		Source: Source(str("event.source", w.Source)), SystemMessageID: SystemMessage(w.SystemMessageID.V),
		SubType: SubType(str("event.subType", w.SubType)), State: ChatState(str("event.state", w.State)),
		JSON: w.JSON,
	}
	return e, true
}

// wireEvents is an events element: links plus event(s) (§5.13), the
// events converted as they are read.
type wireEvents struct {
	Link   links
	Events []Event
	Skips  skips // what of the events did not decode
}

// eventsFields are the members of an events element that are read.
var eventsFields = []string{"link", "event"}

// readEvents reads an events element: an object, or null or "" when empty.
// A value of another shape, or an odd link, is a shapeError; what was read
// before it is kept. An event element that is not an object, or has no
// id, is left out and reported.
func (r *docReader) readEvents(linkRels ...string) (maybe[wireEvents], error) {
	var m maybe[wireEvents]
	if done, err := r.emptyOrOdd("an events object"); done {
		m.Present = err != nil
		return m, err
	}
	m.Present = true
	err := r.object(eventsFields, func(f string) error {
		if f == "link" {
			ls, err := r.readLinks(linkRels...)
			if err == nil {
				m.V.Link = ls
			}
			return err
		}
		var (
			evs = make([]Event, 0, 4) // a poll brings a few
			s   skips
		)
		err := r.each(func() error {
			w, err := r.readEvent()
			if err != nil {
				return err
			}
			if e, ok := w.event(&s); ok {
				evs = append(evs, e)
			}
			return nil
		}, func(k jsontext.Kind) error {
			s.note("event", &shapeError{want: "an event object", got: k})
			return nil
		})
		if err == nil {
			m.V.Events, m.V.Skips = evs, s
		}
		return err
	})
	return m, err
}

// convert returns the events and the next link's from (-1 if none); what
// did not decode goes to s.
func (w wireEvents) convert(s *skips) ([]Event, int) {
	*s = append(*s, w.Skips...)
	for _, l := range w.Link {
		l.note(s)
	}
	next := -1
	if h, ok := findLink(w.Link, relNext); ok {
		if n, ok := fromParam(h); ok {
			next = n
		}
	}
	evs := w.Events
	if evs == nil {
		evs = []Event{}
	}
	return evs, next
}

// wireChatInfo is a chat info element (§5.16), its scalars soft.
type wireChatInfo struct {
	State, ChatSessionKey, AgentName, AgentID softString
	StartTime, LastUpdate                     softTime
	ChatTimeout                               softInt
	VisitorID, VisitorName                    softString
	AgentTyping, VisitorTyping                softString
	RTSessionID, ParticipantID, EngagementID  softString
	CampaignID, Language, SkillID, SkillName  softString
}

// infoFields are the members of an info element that are read.
var infoFields = []string{"state", "chatSessionKey", "agentName", "agentId", "startTime", "lastUpdate",
	"chatTimeout", "visitorId", "visitorName", "agentTyping", "visitorTyping", "rtSessionId",
	"participantId", "engagementId", "campaignId", "language", "skillId", "skillName"}

// member returns the soft string of field f, one of infoFields but
// startTime, lastUpdate and chatTimeout.
func (w *wireChatInfo) member(f string) *softString {
	switch f {
	case "state":
		return &w.State
	case "chatSessionKey":
		return &w.ChatSessionKey
	case "agentName":
		return &w.AgentName
	case "agentId":
		return &w.AgentID
	case "visitorId":
		return &w.VisitorID
	case "visitorName":
		return &w.VisitorName
	case "agentTyping":
		return &w.AgentTyping
	case "visitorTyping":
		return &w.VisitorTyping
	case "rtSessionId":
		return &w.RTSessionID
	case "participantId":
		return &w.ParticipantID
	case "engagementId":
		return &w.EngagementID
	case "campaignId":
		return &w.CampaignID
	case "language":
		return &w.Language
	case "skillId":
		return &w.SkillID
	}
	return &w.SkillName
}

// readInfo reads an info element: an object, or null or "" when empty. A
// value of another shape is a shapeError (present, but without content).
func (r *docReader) readInfo() (maybe[wireChatInfo], error) {
	var m maybe[wireChatInfo]
	if done, err := r.emptyOrOdd("an info object"); done {
		m.Present = err != nil
		return m, err
	}
	m.Present = true
	err := r.object(infoFields, func(f string) error {
		switch f {
		case "startTime":
			return r.time(&m.V.StartTime)
		case "lastUpdate":
			return r.time(&m.V.LastUpdate)
		case "chatTimeout":
			return r.int(&m.V.ChatTimeout)
		}
		return r.str(m.V.member(f))
	})
	return m, err
}

// info converts the element, leaving out what did not decode.
func (w wireChatInfo) info() ChatInfo {
	var s skips
	return w.convert(&s)
}

// convert converts the element; what did not decode goes to s.
func (w wireChatInfo) convert(s *skips) ChatInfo {
	str := func(field string, v softString) string {
		if v.Err != nil {
			s.note("info."+field, v.Err)
		}
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

// wireChat is a chat element (§5.11) or one chat of §5.12. An events or
// info element of an odd shape costs that element only (its error is kept
// here), not the chat.
type wireChat struct {
	Link      links
	Events    maybe[wireEvents]
	EventsErr error
	Info      maybe[wireChatInfo]
	InfoErr   error
	Error     json.RawMessage // the sample app checks body.chat.error
}

// chatFields are the members of a chat element that are read.
var chatFields = []string{"link", "events", "info", "error"}

// Links a chat element keeps (readLinks): those of a chat read whole, and
// those of one chat of the multi-chat answer, whose next links are not
// usable (§5.12: Chats computes NextFrom itself).
var (
	chatLinks      = []string{relSelf, relNext, relVisitID}
	chatEventLinks = []string{relNext}
	multiChatLinks = []string{relSelf, relVisitID}
)

// readChat reads a chat element, an object or null, and converts it. as is
// {as} for building the chat's URL; multi says it is one chat of the
// multi-chat answer.
func (r *docReader) readChat(as string, multi bool) (Chat, error) {
	keep, eventLinks := chatLinks, chatEventLinks
	if multi {
		keep, eventLinks = multiChatLinks, nil
	}
	var w wireChat
	err := r.objectOrNull(chatFields, func(f string) error {
		var err error
		switch f {
		case "link":
			var ls links
			if ls, err = r.readLinks(keep...); err == nil {
				w.Link = ls
			}
		case "events":
			w.Events, err = r.readEvents(eventLinks...)
			w.EventsErr, err = softError(err)
		case "info":
			w.Info, err = r.readInfo()
			w.InfoErr, err = softError(err)
		case "error":
			w.Error, err = r.rawValue()
		}
		return err
	})
	if err != nil {
		return Chat{}, err
	}
	return w.chat(as), nil
}

// softError splits err into a shapeError, which costs one element, and any
// other error, which costs the document.
func softError(err error) (soft, hard error) {
	if isShape(err) {
		return err, nil
	}
	return nil, err
}

// oddChat reports a chat element that is not an object.
func oddChat(k jsontext.Kind) error {
	return &shapeError{want: "a chat object", got: k}
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
	s.note("info", w.InfoErr)
	if w.Info.Present {
		ci := w.Info.V.convert(&s)
		c.Info = &ci
		if c.ID == "" {
			c.ID = ci.ChatSessionKey
		}
	}
	s.note("events", w.EventsErr)
	if w.Events.Present {
		c.Events, c.NextFrom = w.Events.V.convert(&s)
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
	if !isEmptyElement(w.Error) {
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
	r := newDocReader(b)
	var c *Chat
	err := r.document("chat", func() error {
		c = nil
		if done, err := r.emptyOrOdd("a chat object"); done {
			return err
		}
		ch, err := r.readChat(as, false)
		c = &ch
		return err
	})
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("chat element missing")
	}
	return c, nil
}

// decodeChats decodes {"chats": {"chat": one or many}} (§5.12).
func decodeChats(b []byte, as string) ([]Chat, error) {
	r := newDocReader(b)
	var (
		out   []Chat
		found bool
	)
	err := r.document("chats", func() error {
		out, found = nil, false
		if r.dec.PeekKind() == jsontext.KindNull {
			return r.dec.SkipValue()
		}
		found = true
		if done, err := r.emptyOrOdd("a chats object"); done {
			return err
		}
		return r.object([]string{"chat"}, func(string) error {
			var chats []Chat
			err := r.each(func() error {
				c, err := r.readChat(as, true)
				chats = append(chats, c)
				return err
			}, oddChat)
			if err == nil {
				out = chats
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("chats element missing")
	}
	if out == nil {
		out = []Chat{}
	}
	return out, nil
}

// decodeEvents decodes {"events": {...}} (§5.13): the events and the next
// link's from (-1 if none). Events without an id are left out.
func decodeEvents(b []byte) ([]Event, int, error) {
	r := newDocReader(b)
	var evs *maybe[wireEvents]
	err := r.document("events", func() error {
		evs = nil
		if r.dec.PeekKind() == jsontext.KindNull {
			return r.dec.SkipValue()
		}
		m, err := r.readEvents(relNext)
		evs = &m
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if evs == nil {
		return nil, 0, fmt.Errorf("events element missing")
	}
	var s skips
	list, next := evs.V.convert(&s)
	return list, next, nil
}

// decodeChatInfo decodes {"info": {...}} (§5.16); present is false when
// the document has no info element or an empty one.
func decodeChatInfo(b []byte) (info ChatInfo, present bool, err error) {
	r := newDocReader(b)
	var m maybe[wireChatInfo]
	err = r.document("info", func() error {
		var err error
		m, err = r.readInfo()
		return err
	})
	if err != nil {
		return ChatInfo{}, false, err
	}
	return m.V.info(), m.Present, nil
}
