// Package lpconformance is one conformance suite that any server of the
// Chat Agent API, the Login Service API and the Domain API must pass, as
// docs/chat-agent-api.md (the project's reference; a bare "§N" here is its
// section N) describes them. It is watermill's habit (STYLE.md): the same
// tests run against every implementation of an interface — our simulator
// in-process, cmd/lpsim as its own process, and any URL a user points it at.
//
// The suite speaks raw HTTP (net/http) to the documented URLs so that it
// tests the server, not our client; one case then runs internal/lpchat over
// the same server as a second layer. Documents are read tolerantly: where
// the reference allows two spellings (§2.3: "@href" or "href", numbers as
// strings or JSON numbers) either passes; where it says a single element is
// a bare object, the suite checks that. Behaviour the reference leaves
// SILENT (§15) is not tested, or only checked to be one of the documented
// spellings.
//
// Chats must ring for most cases, so the suite needs a Visitor: something
// that starts a chat on a skill, writes visitor lines and leaves.
// SimVisitor drives lpsim's control API (/sim/); a user may plug in their
// own, or give none, and the visitor-driven cases are skipped.
//
// The cases run one after another (chats ring at whichever Online agent has
// the skill, so parallel cases would take each other's chats); each sets
// its agents Away, ends its chats and logs out when it is done.
package lpconformance
