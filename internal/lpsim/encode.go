package lpsim

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// The documents every poll reads (chats with their events and info, the
// ringing count) are written by hand, byte for byte as encoding/json with
// SetEscapeHTML(false) writes them: reflection over 15 links per chat was
// most of a poll's cost. encode_internal_test.go holds the two encoders to
// the same output.

// jsonAppender is a reply body that writes its own JSON.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// appendAny appends v: by its own appendJSON when it has one, else as
// encoding/json writes it.
func appendAny(b []byte, v any) []byte {
	if a, ok := v.(jsonAppender); ok {
		return a.appendJSON(b)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return append(b, "null"...) // the model holds nothing unencodable
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendStringBody(b, s)
	return append(b, '"')
}

// appendStringBody appends s escaped, without quotes; parts of one string
// may be appended one after the other.
func appendStringBody(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return appendEscaped(b, s)
		}
	}
	return append(b, s...)
}

// appendEscaped is the slow path of appendStringBody: encoding/json's own
// escaping (control characters, U+2028, U+2029, invalid UTF-8).
func appendEscaped(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return append(b, out[1:len(out)-1]...)
}

// appendKey appends `"key":`; key is a constant that needs no escaping.
func appendKey(b []byte, key string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// appendLink appends {"@href": base+path, "@rel": rel} without building
// the URL string.
func appendLink(b []byte, base, path, rel string) []byte {
	b = append(b, `{"@href":"`...)
	b = appendStringBody(b, base)
	b = appendStringBody(b, path)
	b = append(b, `","@rel":`...)
	b = appendString(b, rel)
	return append(b, '}')
}

// plain reports whether s needs no escaping in a JSON string.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// hrefs appends the links of one document, which all start with a URL
// (the chat's, or its agent session's, a prefix of it) checked once.
type hrefs struct {
	b     []byte
	plain bool // the URL needs no escaping
	n     int  // links so far
}

func newHrefs(b []byte, url string) *hrefs {
	return &hrefs{b: append(b, '['), plain: plain(url)}
}

// add appends {"@href": base+path[+from], "@rel": rel}; path and rel are
// constants or generated ids, from < 0 is none.
func (h *hrefs) add(base, path string, from int, rel string) {
	if h.n > 0 {
		h.b = append(h.b, ',')
	}
	h.n++
	h.b = append(h.b, `{"@href":"`...)
	if h.plain {
		h.b = append(h.b, base...)
	} else {
		h.b = appendStringBody(h.b, base)
	}
	h.b = appendStringBody(h.b, path)
	if from >= 0 {
		h.b = strconv.AppendInt(h.b, int64(from), 10)
	}
	h.b = append(h.b, `","@rel":"`...)
	h.b = append(h.b, rel...)
	h.b = append(h.b, '"', '}')
}

func (h *hrefs) done() []byte { return append(h.b, ']') }

func (l chatLinks) appendJSON(b []byte) []byte {
	u := l.url
	h := newHrefs(b, u) // asURL is a prefix of url
	h.add(u, "", -1, "self")
	h.add(u, "/events", -1, "events")
	h.add(u, "/info", -1, "info")
	h.add(u, "?from=", l.next, "next")
	h.add(u, "/collaborationChannels", -1, "collaboration-channels")
	h.add(l.asURL, "/visits/visit/"+l.visitID, -1, "visit-id")
	h.add(u, "/transfer", -1, "transfer")
	h.add(u, "/transferAccount", -1, "transfer-account")
	h.add(u, "/survey", -1, "agent-survey")
	return h.done()
}

func (l eventsLinks) appendJSON(b []byte) []byte {
	h := newHrefs(b, l.url)
	h.add(l.url, "/events", -1, "self")
	h.add(l.url, "/events?from=", l.next, "next")
	return h.done()
}

func (l infoLinks) appendJSON(b []byte) []byte {
	h := newHrefs(b, l.url)
	h.add(l.url, "/info", -1, "self")
	h.add(l.url, "/info/visitorName", -1, "visitor-name")
	h.add(l.url, "/info/visitorTyping", -1, "visitor-typing")
	h.add(l.url, "/info/agentTyping", -1, "agent-typing")
	return h.done()
}

// MarshalJSON renders the links through encoding/json (SetOddScalar's
// rewriting reads them that way).
func (l chatLinks) MarshalJSON() ([]byte, error)   { return marshalLinks(l.list()) }
func (l eventsLinks) MarshalJSON() ([]byte, error) { return marshalLinks(l.list()) }
func (l infoLinks) MarshalJSON() ([]byte, error)   { return marshalLinks(l.list()) }

func marshalLinks(links []link) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(links); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func (d eventDoc) appendJSON(b []byte) []byte {
	b = append(b, `{"@id":`...)
	b = appendString(b, d.ID)
	b = append(b, `,"@type":`...)
	b = appendString(b, d.Type)
	b = append(b, `,"time":`...)
	b = appendString(b, d.Time)
	if d.State != "" {
		b = append(b, `,"state":`...)
		b = appendString(b, d.State)
	}
	if d.TextType != "" {
		b = append(b, `,"textType":`...)
		b = appendString(b, d.TextType)
	}
	if d.Text != nil {
		b = append(b, `,"text":`...)
		b = appendString(b, *d.Text)
	}
	if len(d.JSON) > 0 {
		b = append(b, `,"json":`...)
		var buf bytes.Buffer
		if json.Compact(&buf, d.JSON) != nil {
			buf.Reset()
			buf.Write(d.JSON) // never: posted json is checked and compacted
		}
		b = append(b, buf.Bytes()...)
	}
	if d.By != "" {
		b = append(b, `,"by":`...)
		b = appendString(b, d.By)
	}
	if d.Source != "" {
		b = append(b, `,"source":`...)
		b = appendString(b, d.Source)
	}
	if d.SystemMessageID != 0 {
		b = append(b, `,"systemMessageId":`...)
		b = strconv.AppendInt(b, int64(d.SystemMessageID), 10)
	}
	if d.SubType != "" {
		b = append(b, `,"subType":`...)
		b = appendString(b, d.SubType)
	}
	return append(b, '}')
}

// appendOneOrMany appends what oneOrMany(xs) encodes to: one item bare,
// more as an array (the caller omits the field when xs is empty).
func appendOneOrMany[T jsonAppender](b []byte, xs []T) []byte {
	if len(xs) == 1 {
		return xs[0].appendJSON(b)
	}
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = x.appendJSON(b)
	}
	return append(b, ']')
}

func (d eventsDoc) appendJSON(b []byte) []byte {
	b = append(b, `{"link":`...)
	b = d.Link.appendJSON(b)
	if d.Event != nil {
		b = append(b, `,"event":`...)
		switch e := d.Event.(type) {
		case eventDoc:
			b = e.appendJSON(b)
		case []eventDoc:
			b = appendOneOrMany(b, e)
		default:
			b = appendAny(b, e)
		}
	}
	return append(b, '}')
}

func (d infoDoc) appendJSON(b []byte) []byte {
	b = append(b, `{"link":`...)
	b = d.Link.appendJSON(b)
	b = append(b, `,"state":`...)
	b = appendString(b, d.State)
	b = append(b, `,"chatSessionKey":`...)
	b = appendString(b, d.ChatSessionKey)
	if d.AgentName != "" {
		b = append(b, `,"agentName":`...)
		b = appendString(b, d.AgentName)
	}
	if d.AgentID != nil {
		b = append(b, `,"agentId":`...)
		b = strconv.AppendInt(b, *d.AgentID, 10)
	}
	b = append(b, `,"startTime":`...)
	b = appendString(b, d.StartTime)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(d.Duration), 10)
	b = append(b, `,"lastUpdate":`...)
	b = appendString(b, d.LastUpdate)
	b = append(b, `,"chatTimeout":`...)
	b = strconv.AppendInt(b, int64(d.ChatTimeout), 10)
	b = append(b, `,"visitorId":`...)
	b = strconv.AppendInt(b, d.VisitorID, 10)
	b = append(b, `,"agentTyping":`...)
	b = appendString(b, d.AgentTyping)
	b = append(b, `,"visitorTyping":`...)
	b = appendString(b, d.VisitorTyping)
	b = append(b, `,"visitorName":`...)
	b = appendString(b, d.VisitorName)
	b = append(b, `,"rtSessionId":`...)
	b = strconv.AppendInt(b, d.RTSessionID, 10)
	if d.ParticipantID != "" {
		b = append(b, `,"participantId":`...)
		b = appendString(b, d.ParticipantID)
	}
	b = append(b, `,"sharkVisitorId":`...)
	b = appendString(b, d.SharkVisitorID)
	b = append(b, `,"sharkSessionId":`...)
	b = appendString(b, d.SharkSessionID)
	b = append(b, `,"sharkContextId":`...)
	b = strconv.AppendInt(b, int64(d.SharkContextID), 10)
	b = append(b, `,"engagementId":`...)
	b = strconv.AppendInt(b, d.EngagementID, 10)
	b = append(b, `,"campaignId":`...)
	b = strconv.AppendInt(b, d.CampaignID, 10)
	b = append(b, `,"language":`...)
	b = appendString(b, d.Language)
	return append(b, '}')
}

func (d chatDocument) appendJSON(b []byte) []byte {
	b = append(b, `{"link":`...)
	b = d.Link.appendJSON(b)
	b = append(b, `,"events":`...)
	b = d.Events.appendJSON(b)
	b = append(b, `,"info":`...)
	b = d.Info.appendJSON(b)
	return append(b, '}')
}

// keyed is {"key": v}.
type keyed struct {
	key string // needs no escaping
	v   jsonAppender
}

func (k keyed) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKey(b, k.key)
	b = k.v.appendJSON(b)
	return append(b, '}')
}

// multiChatAnswer is the body of §5.12: {"chats": {"chat": one or many}},
// {"chats": {}} when no chat is readable. An element is a chatDocument, or
// a map when SetOddScalar bent it.
type multiChatAnswer []any

func (m multiChatAnswer) appendJSON(b []byte) []byte {
	b = append(b, `{"chats":{`...)
	if len(m) > 0 {
		b = appendKey(b, "chat")
		if len(m) > 1 {
			b = append(b, '[')
		}
		for i, c := range m {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAny(b, c)
		}
		if len(m) > 1 {
			b = append(b, ']')
		}
	}
	return append(b, '}', '}')
}

// incomingAnswer is the body of GET incomingRequests (§5.8): the accept
// link only while something rings.
type incomingAnswer struct {
	asURL   string
	ringing int
}

func (in incomingAnswer) appendJSON(b []byte) []byte {
	b = append(b, `{"incomingRequests":{`...)
	if in.ringing > 0 {
		b = appendKey(b, "link")
		b = appendLink(b, in.asURL, "/incomingRequests", relAccept)
		b = append(b, ',')
	}
	b = append(b, `"ringingCount":"`...)
	b = strconv.AppendInt(b, int64(in.ringing), 10)
	return append(b, `"}}`...)
}
