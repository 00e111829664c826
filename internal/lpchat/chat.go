package lpchat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Chat returns the chat resource: links, events and info. GET {chat} (§5.11).
func (s *AgentSession) Chat(ctx context.Context, chatID string) (*Chat, error) {
	const op = "chat"
	if chatID == "" {
		return nil, opError(op, ErrBadRequest, errEmptyChatID)
	}
	as, err := s.asURL(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := s.getBody(ctx, OpChat, op, apiURL(as+"/chat/"+url.PathEscape(chatID)))
	if err != nil {
		return nil, err
	}
	c, err := decodeChat(raw, as)
	if err != nil {
		return nil, protocolError(op, "decode", err)
	}
	c.setID(chatID, as)
	return c, nil
}

// errEmptyChatID rejects a call without a chat id.
var errEmptyChatID = fmt.Errorf("empty chat id")

// ChatEvents returns the chat's events from id from on: GET
// {chat}/events?from=N (§5.13; from < 0 asks for all). next is the from of
// the response's next link, else the last event id + 1, else from; it never
// goes below from or below the last id + 1. Events below from are dropped.
func (s *AgentSession) ChatEvents(ctx context.Context, chatID string, from int) ([]Event, int, error) {
	const op = "chat events"
	if chatID == "" {
		return nil, from, opError(op, ErrBadRequest, errEmptyChatID)
	}
	chat, err := s.chatURL(ctx, chatID)
	if err != nil {
		return nil, from, err
	}
	var params []queryParam
	if from >= 0 {
		params = append(params, queryParam{"from", strconv.Itoa(from)})
	}
	raw, err := s.getBody(ctx, OpChatEvents, op, apiURL(chat+"/events", params...))
	if err != nil {
		return nil, from, err
	}
	evs, linkFrom, err := decodeEvents(raw)
	if err != nil {
		return nil, from, protocolError(op, "decode", err)
	}
	evs = keepAfter(evs, from-1)
	next := from
	if linkFrom >= 0 {
		next = linkFrom
	}
	if n := len(evs); n > 0 && evs[n-1].ID+1 > next {
		next = evs[n-1].ID + 1
	}
	if next < from {
		next = from
	}
	return evs, next, nil
}

// keepAfter drops the events whose id is <= last and sorts the rest by id
// (the service's order; sorting guards against a reordered array).
func keepAfter(evs []Event, last int) []Event {
	kept := evs[:0]
	for _, e := range evs {
		if e.ID > last {
			kept = append(kept, e)
		}
	}
	if !sort.SliceIsSorted(kept, func(i, j int) bool { return kept[i].ID < kept[j].ID }) {
		sort.SliceStable(kept, func(i, j int) bool { return kept[i].ID < kept[j].ID })
	}
	return kept
}

// Chats polls several chats in one request: GET
// {as}/chat?chatSessionKeys=K1,K2&fromEventIds=E1,E2 (§5.12). It sends each
// cursor's LastEventID (the last id already seen, -1 for none; the
// parameter is left out when every cursor is -1) and drops the returned
// events whose id is <= it — correct whether the service reads the id as
// inclusive or exclusive (§5.12 "safe use"). Each returned Chat carries the
// cursor's ChatID and NextFrom = highest id seen + 1 (the resource's own
// next links are not usable, §5.12). Chats the service leaves out are
// missing from the result.
func (s *AgentSession) Chats(ctx context.Context, cursors []ChatCursor) ([]Chat, error) {
	const op = "chats"
	if len(cursors) == 0 {
		return nil, nil
	}
	as, err := s.asURL(ctx)
	if err != nil {
		return nil, err
	}
	var keys, froms strings.Builder
	anyCursor := false
	for i, c := range cursors {
		if c.ChatID == "" {
			return nil, opError(op, ErrBadRequest, errEmptyChatID)
		}
		if i > 0 {
			keys.WriteByte(',')
			froms.WriteByte(',')
		}
		keys.WriteString(url.QueryEscape(c.ChatID))
		last := max(c.LastEventID, -1)
		froms.WriteString(strconv.Itoa(last))
		anyCursor = anyCursor || last >= 0
	}
	params := []queryParam{{"chatSessionKeys", keys.String()}}
	if anyCursor {
		params = append(params, queryParam{"fromEventIds", froms.String()})
	}
	raw, err := s.getBody(ctx, OpChatMulti, op, apiURL(as+"/chat", params...))
	if err != nil {
		return nil, err
	}
	chats, err := decodeChats(raw, as)
	if err != nil {
		return nil, protocolError(op, "decode", err)
	}
	if err := matchCursors(chats, cursors, as); err != nil {
		return nil, protocolError(op, "match chats", err)
	}
	return chats, nil
}

// matchCursors gives each chat its cursor's id, drops the events already
// seen and sets NextFrom. A chat is matched by the id from its self link or
// chatSessionKey, or by position when it has neither and the counts agree.
func matchCursors(chats []Chat, cursors []ChatCursor, as string) error {
	byID := make(map[string]int, len(cursors))
	for i, c := range cursors {
		byID[c.ChatID] = i
	}
	for i := range chats {
		c := &chats[i]
		idx, ok := byID[c.ID]
		if !ok && c.Info != nil {
			idx, ok = byID[c.Info.ChatSessionKey]
		}
		if !ok && c.ID == "" && len(chats) == len(cursors) {
			idx, ok = i, true
		}
		if !ok {
			return fmt.Errorf("chat %q was not asked for", c.ID)
		}
		cur := cursors[idx]
		c.setID(cur.ChatID, as)
		last := max(cur.LastEventID, -1)
		c.Events = keepAfter(c.Events, last)
		if n := len(c.Events); n > 0 {
			last = c.Events[n-1].ID
		}
		c.NextFrom = last + 1
	}
	return nil
}

// wireLine is the body of a line event (§5.14).
type wireLine struct {
	Type     EventType       `json:"@type"`
	Text     string          `json:"text,omitempty"`
	TextType TextType        `json:"textType"`
	SubType  SubType         `json:"subType,omitempty"`
	JSON     json.RawMessage `json:"json,omitempty"`
}

// lineBody validates l and returns its event element.
func lineBody(l Line) (wireLine, error) {
	w := wireLine{Type: EventLine, Text: l.Text, TextType: l.TextType, SubType: l.SubType}
	if w.TextType == "" {
		w.TextType = TextPlain
	}
	switch w.TextType {
	case TextPlain, TextHTML:
		if l.Text == "" {
			return w, fmt.Errorf("empty text")
		}
	case TextRichContent:
		if len(l.JSON) == 0 && l.Text == "" {
			return w, fmt.Errorf("rich-content needs JSON")
		}
	default:
		return w, fmt.Errorf("textType %q is not plain, html or rich-content", l.TextType)
	}
	if len(l.JSON) > 0 {
		if !json.Valid(l.JSON) {
			return w, fmt.Errorf("JSON is not valid JSON")
		}
		w.JSON = l.JSON
	}
	return w, nil
}

// SendLine adds a line to the chat: POST {chat}/events (§5.14) → 201 with
// chatEventLocation; it returns the new event's id (the link's last path
// segment). Not retried on ambiguous failures (ErrAmbiguous): check the
// chat's events before sending again. An ErrProtocol after a 2xx means the
// line was sent but its id is unknown.
func (s *AgentSession) SendLine(ctx context.Context, chatID string, l Line) (int, error) {
	const op = "send line"
	if chatID == "" {
		return -1, opError(op, ErrBadRequest, errEmptyChatID)
	}
	ev, err := lineBody(l)
	if err != nil {
		return -1, opError(op, ErrBadRequest, err)
	}
	chat, err := s.chatURL(ctx, chatID)
	if err != nil {
		return -1, err
	}
	res, err := s.post(ctx, OpChatEventsAdd, op, apiURL(chat+"/events"), "", map[string]any{"event": ev}, true)
	if err != nil {
		return -1, err
	}
	href := eventLocation(res)
	id, err := parseFlexInt(lastSegment(href))
	if href == "" || err != nil || id < 0 {
		return -1, protocolError(op, "line sent, but no event id in chatEventLocation", nil)
	}
	return int(id), nil
}

// eventLocation returns the created event's href: chatEventLocation (§5.14),
// or chatLocation (what ending answers, §5.15), or the Location header.
func eventLocation(res *response) string {
	var doc struct {
		Event maybe[struct {
			Link links `json:"link"`
		}] `json:"chatEventLocation"`
		Chat maybe[struct {
			Link links `json:"link"`
		}] `json:"chatLocation"`
	}
	if len(res.body) > 0 && json.Unmarshal(res.body, &doc) == nil {
		if h := locationHref(doc.Event.V.Link); h != "" {
			return h
		}
		if h := locationHref(doc.Chat.V.Link); h != "" {
			return h
		}
	}
	return res.header.Get("Location")
}

// EndChat closes the chat: POST {chat}/events with a state event "ended"
// (§5.15) → 201. The chat stays readable. Not retried on ambiguous failures
// (ErrAmbiguous): read the chat's state before ending again.
func (s *AgentSession) EndChat(ctx context.Context, chatID string) error {
	const op = "end chat"
	if chatID == "" {
		return opError(op, ErrBadRequest, errEmptyChatID)
	}
	chat, err := s.chatURL(ctx, chatID)
	if err != nil {
		return err
	}
	body := map[string]any{"event": map[string]any{"@type": EventState, "state": ChatEnded}}
	_, err = s.post(ctx, OpChatEventsAdd, op, apiURL(chat+"/events"), "", body, true)
	return err
}
