package lpchat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// decodeRinging decodes {"incomingRequests": {"ringingCount": "1", "link": ...}}.
func decodeRinging(b []byte) (Ringing, error) {
	var doc struct {
		Incoming *maybe[struct {
			RingingCount *flexInt `json:"ringingCount"`
			Link         links    `json:"link"`
		}] `json:"incomingRequests"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return Ringing{}, err
	}
	if doc.Incoming == nil {
		return Ringing{}, fmt.Errorf("incomingRequests element missing")
	}
	in := doc.Incoming.V
	switch {
	case in.RingingCount != nil:
		return Ringing{Count: int(*in.RingingCount)}, nil
	case len(in.Link) > 0:
		// The accept link appears only while something rings (§5.8).
		return Ringing{Count: 1}, nil
	}
	return Ringing{}, nil
}

// IncomingRequests returns how many chats ring for this agent: GET
// {as}/incomingRequests (§5.8). Calling it also keeps the agent session
// alive (the legacy docs' heartbeat).
func (s *AgentSession) IncomingRequests(ctx context.Context) (Ringing, error) {
	const op = "incoming requests"
	as, err := s.asURL(ctx)
	if err != nil {
		return Ringing{}, err
	}
	raw, err := s.getBody(ctx, OpIncomingRequests, op, apiURL(as+"/incomingRequests"))
	if err != nil {
		return Ringing{}, err
	}
	r, err := decodeRinging(raw)
	if err != nil {
		return Ringing{}, protocolError(op, "decode", err)
	}
	return r, nil
}

// Accept takes the next ringing chat: POST {as}/incomingRequests with {}
// (§5.9) → 201 with chatLocation; it returns the chat id (the link's last
// path segment). A 2xx without chatLocation is ErrNotRinging, and so is a
// 404 (also ErrNotFound). Not retried on
// ambiguous failures (ErrAmbiguous): check ChatSessions before accepting again.
func (s *AgentSession) Accept(ctx context.Context) (string, error) {
	const op = "accept chat"
	as, err := s.asURL(ctx)
	if err != nil {
		return "", err
	}
	res, err := s.post(ctx, OpIncomingRequestsAccept, op, apiURL(as+"/incomingRequests"), "", struct{}{}, true)
	if err != nil {
		// The status for "nothing rings" is unconfirmed (§5.9); a 404 on
		// this existing resource can only mean there is nothing to take.
		if e, ok := asAPIError(err); ok && e.Status == http.StatusNotFound {
			e.sentinels = append(e.sentinels, ErrNotRinging)
		}
		return "", err
	}
	href := ""
	if len(res.body) > 0 {
		var doc struct {
			Location *struct {
				Link links `json:"link"`
			} `json:"chatLocation"`
		}
		if err := json.Unmarshal(res.body, &doc); err == nil && doc.Location != nil {
			href = locationHref(doc.Location.Link)
		}
	}
	if href == "" {
		return "", opError(op, ErrNotRinging, nil)
	}
	id := lastSegment(href)
	if id == "" {
		return "", protocolError(op, "chatLocation link has no chat id", nil)
	}
	return id, nil
}

// wireChatSession is one chatSession element (§5.10).
type wireChatSession struct {
	Link           links      `json:"link"`
	ChatSessionKey flexString `json:"chatSessionKey"`
	StartTime      flexTime   `json:"startTime"`
}

// decodeChatSessions decodes {"chatSessions": {"chatSession": ...}}; chatURL
// builds the template URL of a chat.
func decodeChatSessions(b []byte, chatURL func(string) string) ([]ChatSession, error) {
	var doc struct {
		ChatSessions *maybe[struct {
			ChatSession oneOrMany[wireChatSession] `json:"chatSession"`
		}] `json:"chatSessions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.ChatSessions == nil {
		return nil, fmt.Errorf("chatSessions element missing")
	}
	out := make([]ChatSession, 0, len(doc.ChatSessions.V.ChatSession))
	for _, w := range doc.ChatSessions.V.ChatSession {
		id := string(w.ChatSessionKey)
		if id == "" {
			if h, ok := findLink(w.Link, relChatSession); ok {
				id = lastSegment(h)
			}
		}
		if id == "" {
			return nil, fmt.Errorf("chatSession without chatSessionKey or link")
		}
		out = append(out, ChatSession{ChatID: id, URL: chatURL(id), StartTime: time.Time(w.StartTime)})
	}
	return out, nil
}

// ChatSessions lists the chats the agent session holds: GET
// {as}/chatSessions (§5.10).
func (s *AgentSession) ChatSessions(ctx context.Context) ([]ChatSession, error) {
	const op = "chat sessions"
	as, err := s.asURL(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := s.getBody(ctx, OpChatSessions, op, apiURL(as+"/chatSessions"))
	if err != nil {
		return nil, err
	}
	out, err := decodeChatSessions(raw, func(id string) string { return as + "/chat/" + url.PathEscape(id) })
	if err != nil {
		return nil, protocolError(op, "decode", err)
	}
	return out, nil
}
