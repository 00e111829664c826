package lpsim

import (
	"net/http"
	"strings"
)

// agentCookiePrefix names the agent-session cookie set on the start-session
// response; the full name is the prefix plus the agent session id, so one
// cookie jar can hold the cookies of two sessions of the same agent (§10).
const agentCookiePrefix = "LPAgentSession_"

// AgentSessionCookieName returns the name of the cookie the simulator sets
// for the agent session with the given id (StrictCookies checks it).
func AgentSessionCookieName(agentSessionID string) string {
	return agentCookiePrefix + agentSessionID
}

// caller is who sent a Chat Agent API request.
type caller struct {
	agent  *agent
	login  *loginSession // nil when signed
	signed bool          // OAuth 1.0 signed request (§11)
}

// authenticate resolves the Authorization header: a live bearer, or an
// OAuth 1.0 signature by one of the agents' API keys.
func (s *Simulator) authenticate(a *account, c *call) (caller, *reply) {
	h := c.r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		if ls := a.logins[strings.TrimSpace(cred)]; ls != nil {
			return caller{agent: ls.agent, login: ls}, nil
		}
		rep := s.authFailure(c.fail(http.StatusUnauthorized, "bearer is invalid or expired"), problemTokenRejected)
		return caller{}, &rep
	case strings.EqualFold(scheme, "OAuth"):
		ag, err := verifyOAuth(a, c)
		if err != nil {
			rep := s.authFailure(c.fail(http.StatusUnauthorized, "OAuth signature rejected: %v", err), problemSignatureWrong)
			return caller{}, &rep
		}
		return caller{agent: ag, signed: true}, nil
	}
	rep := c.fail(http.StatusUnauthorized, "Authorization header with a bearer is required")
	return caller{}, &rep
}

// agentSession finds the agent session of the path for the caller: 404 when
// unknown or another agent's, 401 when it has ended, 401 without its cookie
// in strict mode. A found session's last activity is now.
func (s *Simulator) agentSession(a *account, c *call, who caller, id string) (*agentSession, *reply) {
	as := a.sessions[id]
	if as == nil || as.agent != who.agent {
		rep := c.fail(http.StatusNotFound, "unknown agent session")
		return nil, &rep
	}
	if as.ended {
		rep := c.fail(s.reapedStatus(), "agent session has ended")
		return nil, &rep
	}
	if s.cfg.StrictCookies && !who.signed && as.cookie != "" {
		ck, err := c.r.Cookie(AgentSessionCookieName(as.id))
		if err != nil || !eq(ck.Value, as.cookie) {
			rep := c.fail(http.StatusUnauthorized, "agent session cookie missing or wrong")
			return nil, &rep
		}
	}
	as.lastActivity = c.now
	earlier(&a.sessionDue, c.now.Add(s.cfg.SessionIdleTimeout)) // a no-op unless the clock went back
	return as, nil
}

// serveAgentAPI serves {base}/agentSession and everything under it.
func (s *Simulator) serveAgentAPI(a *account, c *call, rest []string) reply {
	who, rep := s.authenticate(a, c)
	if rep != nil {
		return *rep
	}
	if len(rest) == 0 {
		if c.method != http.MethodPost {
			return c.methodNotAllowed(http.MethodPost)
		}
		return s.startAgentSession(a, c, who)
	}
	as, rep := s.agentSession(a, c, who, rest[0])
	if rep != nil {
		return *rep
	}
	x := &sessionCall{call: c, a: a, as: as, asURL: c.base + "/api/account/" + a.id + "/agentSession/" + as.id}
	return s.serveSession(x, rest[1:])
}

// sessionCall is a call on one live agent session.
type sessionCall struct {
	*call
	a     *account
	as    *agentSession
	asURL string // absolute URL of the agent session
}

func (x *sessionCall) agent() *agent { return x.as.agent }

// serveSession routes the sub-resources of {as} (§5.2–§5.22).
func (s *Simulator) serveSession(x *sessionCall, rest []string) reply {
	if len(rest) == 0 {
		return s.sessionRoot(x)
	}
	switch rest[0] {
	case "availability":
		if len(rest) == 1 {
			return s.availability(x)
		}
	case "info":
		if len(rest) == 1 {
			return s.agentInfo(x)
		}
	case "availableAgents":
		if len(rest) == 1 {
			return s.availableAgents(x)
		}
	case "incomingRequests":
		if len(rest) == 1 {
			return s.incomingRequests(x)
		}
	case "chatSessions":
		if len(rest) == 1 {
			return s.chatSessions(x)
		}
	case "chat":
		switch {
		case len(rest) == 1:
			return s.multiChat(x)
		case len(rest) == 2 && rest[1] == "availableSlots":
			return s.availableSlots(x)
		default:
			return s.serveChat(x, rest[1], rest[2:])
		}
	case "participantExtendedInfo":
		if len(rest) == 2 {
			return s.participantInfo(x, rest[1])
		}
	case "visits":
		if len(rest) >= 3 && rest[1] == "visit" {
			return s.visit(x, rest[2], rest[3:])
		}
	}
	return x.notFound()
}
