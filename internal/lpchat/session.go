package lpchat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
)

// AgentSession is one agent session (chat-agent-api.md §5.1) of a Client's
// login. Its methods build URLs from the documented templates ({as} =
// {base}/agentSession/{ID}, {chat} = {as}/chat/{chatID}) and append
// v=1&NC=true. It is safe for concurrent use; all state is in the Client.
type AgentSession struct {
	// ID is the agentSessionId: the last path segment of the session URL.
	ID string
	// URL is {as}; empty for a resumed session whose Client had not done the
	// domain lookup yet (the methods then look the domain up first).
	URL string

	c    *Client
	root string // {as} at creation; the methods use this, not URL
}

// StartAgentSession creates an agent session: POST {base}/agentSession with
// {"loginData": ""}; the service answers 201 (an older doc: 200) with the
// session's link. Not retried on ambiguous network failures (ErrAmbiguous),
// but retried on a 5xx: an orphaned session is reaped by the service after
// ~400 s of inactivity.
func (c *Client) StartAgentSession(ctx context.Context) (*AgentSession, error) {
	const op = "start agent session"
	base, err := c.baseURL(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.send(ctx, call{
		name: OpAgentSessionStart, op: op, method: http.MethodPost, url: apiURL(base + "/agentSession"),
		body: []byte(`{"loginData":""}`), bearer: true, kind: callKind{once: true, reaped: true},
	})
	if err != nil {
		return nil, err
	}
	var doc struct {
		Location *struct {
			Link links `json:"link"`
		} `json:"agentSessionLocation"`
	}
	href := ""
	if len(res.body) > 0 {
		if err := json.Unmarshal(res.body, &doc); err != nil {
			return nil, protocolError(op, "decode", err)
		}
		if doc.Location != nil {
			href = locationHref(doc.Location.Link)
		}
	}
	if href == "" {
		href = res.header.Get("Location") // likely present too (§5.1, unconfirmed)
	}
	id := lastSegment(href)
	if id == "" {
		return nil, protocolError(op, "agentSessionLocation link missing", nil)
	}
	s := c.ResumeAgentSession(id)
	c.log.Info("agent session started", "agent_session", id)
	return s, nil
}

// ResumeAgentSession returns a handle on an agent session known from before
// (e.g. after a restart). It makes no request; a session that no longer
// exists fails its first call with ErrSessionLost.
func (c *Client) ResumeAgentSession(id string) *AgentSession {
	s := &AgentSession{ID: id, c: c}
	c.mu.RLock()
	base := c.base
	c.mu.RUnlock()
	if base != "" {
		s.root = base + "/agentSession/" + url.PathEscape(id)
		s.URL = s.root
	}
	return s
}

// Client returns the client the session belongs to.
func (s *AgentSession) Client() *Client { return s.c }

// asURL returns {as}.
func (s *AgentSession) asURL(ctx context.Context) (string, error) {
	if s.root != "" {
		return s.root, nil
	}
	base, err := s.c.baseURL(ctx)
	if err != nil {
		return "", err
	}
	return base + "/agentSession/" + url.PathEscape(s.ID), nil
}

// chatURL returns {chat} for chatID.
func (s *AgentSession) chatURL(ctx context.Context, chatID string) (string, error) {
	as, err := s.asURL(ctx)
	if err != nil {
		return "", err
	}
	return as + "/chat/" + url.PathEscape(chatID), nil
}

// getJSON GETs u (a full API URL) and decodes the body into v.
func (s *AgentSession) getJSON(ctx context.Context, name Operation, op, u string, v any) error {
	res, err := s.c.send(ctx, call{name: name, op: op, method: http.MethodGet, url: u, bearer: true})
	if err = sessionLost(name, err); err != nil {
		return err
	}
	if err := json.Unmarshal(res.body, v); err != nil {
		return protocolError(op, "decode", err)
	}
	return nil
}

// getBody GETs u and returns the body undecoded (the caller decodes it).
func (s *AgentSession) getBody(ctx context.Context, name Operation, op, u string) ([]byte, error) {
	res, err := s.c.send(ctx, call{name: name, op: op, method: http.MethodGet, url: u, bearer: true})
	if err = sessionLost(name, err); err != nil {
		return nil, err
	}
	return res.body, nil
}

// getRaw GETs u and returns the body, which must be JSON.
func (s *AgentSession) getRaw(ctx context.Context, name Operation, op, u string) (json.RawMessage, error) {
	res, err := s.c.send(ctx, call{name: name, op: op, method: http.MethodGet, url: u, bearer: true})
	if err = sessionLost(name, err); err != nil {
		return nil, err
	}
	if !json.Valid(res.body) {
		return nil, protocolError(op, "body is not JSON", nil)
	}
	return json.RawMessage(res.body), nil
}

// post sends a JSON body by POST (with an override for PUT-by-POST).
// once marks non-idempotent requests (never retried after an ambiguous failure).
func (s *AgentSession) post(ctx context.Context, name Operation, op, u, override string, body any, once bool) (*response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, opError(op, ErrBadRequest, err)
	}
	res, err := s.c.send(ctx, call{
		name: name, op: op, method: http.MethodPost, override: override, url: u, body: b,
		bearer: true, kind: callKind{once: once},
	})
	return res, sessionLost(name, err)
}

// sessionLost adds ErrSessionLost to err when it says the agent session is
// gone (see ErrSessionLost): a 401 on any call under the session, another
// 4xx but 429 on a read of the session's own resources. The message stays.
func sessionLost(name Operation, err error) error {
	if err == nil {
		return nil // the usual case, without errors.As's allocation
	}
	e, ok := asAPIError(err)
	if !ok || errors.Is(err, ErrSessionLost) {
		return err
	}
	gone := errors.Is(err, ErrAuth)
	if sessionRead(name) && e.Status >= 400 && e.Status <= 499 && e.Status != http.StatusTooManyRequests {
		gone = true
	}
	if gone {
		e.sentinels = append(e.sentinels, ErrSessionLost)
	}
	return err
}

// sessionRead reports the reads of the agent session's own resources: they
// take no input, so a live session never refuses them.
func sessionRead(name Operation) bool {
	switch name {
	case OpAgentSession, OpAvailability, OpAgentInfo, OpIncomingRequests, OpChatSessions:
		return true
	}
	return false
}

// locationHref picks the href of a create response's link: rel "location",
// else the first link with an href.
func locationHref(ls links) string {
	if h, ok := findLink(ls, relLocation); ok {
		return h
	}
	for _, l := range ls {
		if h := l.target(); h != "" {
			return h
		}
	}
	return ""
}

// Resource returns the agent-session resource: GET {as} (§5.2). Its body is
// undocumented, so it is returned as is.
func (s *AgentSession) Resource(ctx context.Context) (json.RawMessage, error) {
	as, err := s.asURL(ctx)
	if err != nil {
		return nil, err
	}
	return s.getRaw(ctx, OpAgentSession, "agent session", apiURL(as))
}
