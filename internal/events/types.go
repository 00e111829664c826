package events

import "strings"

// Type of an event; it is the CloudEvent "type" attribute.
type Type string

// The event types, one per subject of DESIGN.md §2.
const (
	AgentSession    Type = "lpbridge.agent.session"
	AgentStatus     Type = "lpbridge.agent.status"
	AgentRinging    Type = "lpbridge.agent.ringing"
	ChatAccepted    Type = "lpbridge.chat.accepted"
	ChatLine        Type = "lpbridge.chat.line"
	ChatState       Type = "lpbridge.chat.state"
	ChatTyping      Type = "lpbridge.chat.typing"
	ChatInfo        Type = "lpbridge.chat.info"
	ChatTransferred Type = "lpbridge.chat.transferred"
	ChatEnded       Type = "lpbridge.chat.ended"
	ChatTranscript  Type = "lpbridge.chat.transcript"
	CommandResult   Type = "lpbridge.command.result"
)

// typePrefix is what every Type starts with; the rest is its suffix.
const typePrefix = "lpbridge."

// AllTypes returns every event type, agent events first, in a fixed order.
func AllTypes() []Type {
	return []Type{
		AgentSession, AgentStatus, AgentRinging,
		ChatAccepted, ChatLine, ChatState, ChatTyping, ChatInfo,
		ChatTransferred, ChatEnded, ChatTranscript,
		CommandResult,
	}
}

// Valid reports whether t is one of AllTypes.
func (t Type) Valid() bool {
	switch t {
	case AgentSession, AgentStatus, AgentRinging,
		ChatAccepted, ChatLine, ChatState, ChatTyping, ChatInfo,
		ChatTransferred, ChatEnded, ChatTranscript,
		CommandResult:
		return true
	}
	return false
}

// Suffix is the type without its "lpbridge." prefix, e.g. "chat.line". It
// names the schema file (schemas/events/<suffix>.json) and ends event ids.
func (t Type) Suffix() string {
	return strings.TrimPrefix(string(t), typePrefix)
}

// IsChat reports whether events of this type belong to one chat (their
// subject carries the chat id and Event.ChatID is required).
func (t Type) IsChat() bool {
	return strings.HasPrefix(t.Suffix(), "chat.")
}

// IsAgent reports whether events of this type are agent-level
// (agent.session, agent.status, agent.ringing).
func (t Type) IsAgent() bool {
	return strings.HasPrefix(t.Suffix(), "agent.")
}
