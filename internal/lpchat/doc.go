// Package lpchat is a typed client of LivePerson's legacy Chat Agent API, its
// Login Service API and the Domain API (CSDS), as described in
// docs/chat-agent-api.md (the project's reference of those APIs, with the
// addresses of LivePerson's public pages; a bare "§N" in this package is its
// section N). It knows nothing of NATS.
//
// One Client serves one agent: it owns the agent's cookie jar (§10), bearer
// and csrf, and is safe for concurrent use (a poller and a command consumer
// may share it and its AgentSession). A typical life:
//
//	c, _ := lpchat.New(lpchat.Config{Account: "55500011"})
//	_, err := c.Login(ctx, lpchat.Credentials{Username: "bot", Password: pw}) // domain lookup + login
//	s, err := c.StartAgentSession(ctx)
//	_, err = s.SetAvailability(ctx, lpchat.Online)
//	r, err := s.IncomingRequests(ctx) // every ~2 s; also the session heartbeat
//	chatID, err := s.Accept(ctx)      // when r.Count > 0
//	chats, err := s.Chats(ctx, []lpchat.ChatCursor{{ChatID: chatID, LastEventID: -1}})
//	id, err := s.SendLine(ctx, chatID, lpchat.Line{Text: "hello"})
//
// URLs are built from the documented templates ({base}/agentSession/{id},
// {as}/chat/{chatId}, ...) with v=1&NC=true; nothing the reference marks
// unconfirmed (hub rel names, the accept link's rel, cookie names, error
// bodies) is relied on. Decoding tolerates the XML-derived JSON of §2.3.
//
// Errors wrap the sentinels of errors.go and carry an *APIError. Requests
// follow LivePerson's retry policy (§9, RetryPolicy): 5xx and network
// failures are retried with backoff, 429 after Retry-After, other 4xx never;
// ErrSessionLost (a 401 outside login, a 4xx on the agent session's own
// reads) means: log in and start a session again.
// Non-idempotent requests (send line, end chat, accept, transfer, start
// agent session) are not retried once they may have reached the service;
// such a failure is ErrAmbiguous.
package lpchat
