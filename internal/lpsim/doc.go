// Package lpsim simulates LivePerson's legacy Chat Agent API together with
// the Login Service API and the Domain API (CSDS), as
// docs/chat-agent-api.md (the project's reference; a bare "§N" in this
// package is its section N) describes them, quirks included: a single
// element is a bare object and two or more are an array, empty collections
// are absent, numbers are strings where the reference shows strings, links
// are absolute @href/@rel URLs without v/NC, ".json" path suffixes, a missing
// NC or v, and POST + X-HTTP-Method-Override: PUT (a real PUT works too) are
// accepted.
//
// A Simulator is an http.Handler serving everything on one host: the Domain
// API answers with the request's Host as baseURI for every service, and
// links use http, or https when the request came over TLS or with
// X-Forwarded-Proto: https. It knows nothing of NATS.
//
// # Choices where the reference is unconfirmed
//
// The reference marks these SILENT (its §15 lists them);
// docs/adr/0003-simulator-where-the-reference-is-silent.md says why the
// simulator picks one behaviour for each.
//
//   - Errors: every non-2xx answer has the body
//     {"error": {"time": "Jan 02, 2006 3:04:05 PM", "message", "internalCode",
//     "responseStatus": "NOT_FOUND"}}; internalCode is the HTTP status,
//     except 10 for a bad csrf (§4.4). Messages never contain secrets.
//   - 401: missing, unknown, expired or logged-out bearer; ended agent
//     session (reaped, logged out, expired, deleted); a bad OAuth signature;
//     an unknown account (also on the Domain API and login). 404: unknown
//     agent session or one of another agent, unknown chat or a chat the agent
//     never had (a chat only ringing at it included), unknown event, visit
//     or participant. 400: malformed body, bad parameters, POST to an ended
//     chat, transfer to an unavailable skill or agent. 403: a change to a
//     chat that is no longer the agent's (transferred away or requeued); it
//     stays readable. 405: wrong method, e.g. POST without the override on
//     availability, agentTyping or survey.
//   - POST incomingRequests with nothing ringing: 404 with an error body.
//     The ringing document's accept link has rel "accept".
//   - A chat rings at an agent (ringingCount is the same on all its agent
//     sessions); any of its sessions may accept. Routing: the least loaded
//     Online agent with the skill and room (open chats + ringing <
//     maxChats), ties to the agent added first; Occupied agents get only
//     transferred chats. Not accepted within AcceptWindow: the agent is set
//     Away and its ringing chats are routed again.
//   - Agent sessions start Away (Offline is shown while an agent has none).
//     A second agent session of the same agent sees the agent's chats
//     (chatSessions) and may use the chat URLs under its own {as}. When an
//     agent's last session ends (logout, reaping, ExpireAgentSession, DELETE
//     {as}), its chats get system line #23 "The chat was requeued" and state
//     waiting, and are routed again.
//   - ExpireLogin and a passed LoginTTL kill the bearer only; agent sessions
//     live on until reaped and a new login of the same agent may use them.
//     Logout also ends the agent sessions started with that bearer.
//   - Agent-session cookie: "LPAgentSession_<agentSessionId>" with Path
//     /api/account/{acct}/agentSession, set on 201 of agentSession unless the
//     request was OAuth-signed. StrictCookies rejects unsigned calls without
//     it (401).
//   - OAuth 1.0 (§11): "Authorization: OAuth ..." with HMAC-SHA1 over the
//     real method, the URL the client used and the query and oauth
//     parameters, keyed by an agent's API key, is accepted instead of a
//     bearer. Timestamps and nonces are not checked for replays.
//   - Event sequence: 0 state waiting, 1 system #4; accept: state chatting +
//     system #3 "You are now chatting with {nickname}"; agent end: state
//     ended + system #5 "{nickname} has left the chat"; visitor end: system
//     #6 "The visitor has left the chat" + state ended; transfer: the
//     optional text as an ONLY_TO_REP agent line, system #13 (agent) or #15
//     (skill), state waiting, then the chat rings at the target (Occupied
//     agents included). GET transfer lists the skills with a live Online or
//     Occupied agent other than the chat's agent; a transfer to a skill
//     without one, or to such an agent that is not available, is 400. If
//     the target lets it ring out, the chat is routed again by skill and may
//     return to the first agent. Typing changes only the chat info.
//   - Any POST to the events of an ended chat is 400. Ended chats stay
//     readable. chatTimeout is reported (40) but chats never time out.
//   - GET {chat}/events/{id} returns {"event": {...}}; GET {as} returns the
//     hub of links of §5.2; DELETE {as} (or POST + override DELETE) ends it.
//   - Multi-chat (§5.12) uses the @ spelling; fromEventIds is "last id
//     seen": events with a larger id are returned, a missing or negative id
//     returns all; keys of chats the agent cannot read are skipped.
//   - Transfer and survey submit answer 200 with an empty body; refresh and
//     logout too. visitorName and typing GETs are {"visitorName": ...},
//     {"agentTyping": ...}, {"visitorTyping": ...}.
//   - Agent survey (§5.20): {"survey": {"id", "title", "header", "link",
//     "questions": {"question": [...]}}} with one Dropdown Box, one Radio
//     Button and one Checkbox question; ids, booleans and numbers in it are
//     strings. Submit {"survey": {"id", "questions": {"question": [{"id",
//     "answer": "x" | ["x","y"]}]}}}; mandatory questions must be answered.
//   - Visit (§5.22): {"visit": {"link": [self, custom-variables,
//     chat-session], "id", "chatSessionKey", "visitorId", "visitorName",
//     "startTime", "visitorInfo": {"device", "operatingSystem", "browser",
//     "ipAddress"}, "preChatSurvey": {"question": [{"id", "label",
//     "answer"}]}}}; customVariables: {"customVariables": {"link",
//     "customVariable": [{"name", "value"}]}} sorted by name.
//   - collaborationChannels and transferAccount answer 404 (not simulated).
//
// # Control API
//
// Under /sim/ on the same handler, for tests, bots in other languages and
// curl demos. JSON in and out, errors as {"error": "..."} with 400 (bad
// input), 404 (unknown account, agent or chat) or 409 (exists, chat ended).
// It is not authenticated: serve it on loopback only. Control calls are not
// counted by Requests and never faulted.
//
//	GET    /sim/accounts                                 {"accounts": [ids]}
//	GET    /sim/accounts/{acct}                          AccountView: skills, agents (availability, ringing, chats), open chats
//	POST   /sim/accounts/{acct}                          create an account
//	POST   /sim/accounts/{acct}/skills                   SkillSpec JSON {"id"?, "name"}
//	POST   /sim/accounts/{acct}/agents                   AgentSpec JSON {"loginName", "password", "skillIds", ...}
//	GET    /sim/accounts/{acct}/agents/{login}           {"loginName", "availability"}
//	POST   /sim/accounts/{acct}/agents/{login}/expire-login
//	POST   /sim/accounts/{acct}/agents/{login}/expire-sessions
//	POST   /sim/accounts/{acct}/chats                    VisitorSpec JSON {"name", "skillId", "survey", "device", "os",
//	                                                     "browser", "ip", "customVariables", "authenticated"} → 201 {"chatId"}
//	GET    /sim/accounts/{acct}/chats/{chatId}           {"chatId", "state", "agent"}
//	GET    /sim/accounts/{acct}/chats/{chatId}/events    {"events": [EventView...]}
//	POST   /sim/accounts/{acct}/chats/{chatId}/lines     {"text"} → 201 {"eventId"}
//	POST   /sim/accounts/{acct}/chats/{chatId}/typing    {"typing": true|false}
//	POST   /sim/accounts/{acct}/chats/{chatId}/end       visitor leaves
//	POST   /sim/accounts/{acct}/scripted-visitors        {"chatsPerMinute", "lineInterval": "5s", "linesPerChat",
//	                                                     "maxConcurrent"} → 202; they run until the simulator closes
//	POST   /sim/faults                                   {"method", "pathContains", "status", "retryAfter", "count",
//	                                                     "latency": "250ms", "drop", "afterHandle"} → 201
//	DELETE /sim/faults                                   clear every fault
//	GET    /sim/stats                                    {"requests": n}
//
// # Visitor console
//
// Under /console/ (package console, embedded files): a page on which a
// person plays visitors with the control API above. Not counted, not faulted.
//
// # Determinism
//
// Agent, skill, agent-session and chat ids, and scripted-visitor choices come
// from Config.Seed, each kind from its own stream: the same seed and the same
// sequence of calls give the same ids. Bearer, csrf, Session_id and cookie
// values are secrets and come from crypto/rand.
package lpsim
