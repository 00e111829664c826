package events

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Type of an event; it is the CloudEvent "type" attribute.
type Type string

// The event types, one per subject of DESIGN.md §2. Each has a row in
// typeTable, which everything else per type is derived from.
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

// typeDef is one row of typeTable: a type and its payload struct. Whether a
// type is chat or agent level, its subject, its schema file and its id
// suffix all follow from its name, so they have no column.
type typeDef struct {
	typ  Type
	data payload
}

// typeTable is the one list of event types, agent events first, in the
// order of AllTypes. Valid, AllTypes, Event.Validate's data check,
// DecodeData, ZeroData, SubjectPatterns and (through TypeNames, passed in by
// cmd/bridge) telemetry's label set all read it. A function rather than a
// package variable, so nothing can change it.
func typeTable() []typeDef {
	return []typeDef{
		{AgentSession, payloadOf[SessionData]{}},
		{AgentStatus, payloadOf[StatusData]{}},
		{AgentRinging, payloadOf[RingingData]{}},
		{ChatAccepted, payloadOf[AcceptedData]{}},
		{ChatLine, payloadOf[LineData]{}},
		{ChatState, payloadOf[StateData]{}},
		{ChatTyping, payloadOf[TypingData]{}},
		{ChatInfo, payloadOf[InfoData]{}},
		{ChatTransferred, payloadOf[TransferredData]{}},
		{ChatEnded, payloadOf[EndedData]{}},
		{ChatTranscript, payloadOf[TranscriptData]{}},
		{CommandResult, payloadOf[CommandResultData]{}},
	}
}

// lookup returns the row of t.
func lookup(t Type) (typeDef, bool) {
	for _, d := range typeTable() {
		if d.typ == t {
			return d, true
		}
	}
	return typeDef{}, false
}

// payload checks, decodes and makes the data of one event type.
type payload interface {
	matches(d any) bool             // d is the struct, by value or non-nil pointer
	decode(raw []byte) (any, error) // the struct, by value
	zero() any                      // the zero struct, by value
}

// payloadOf is the payload of data struct T; a row names T once.
type payloadOf[T any] struct{}

func (payloadOf[T]) matches(d any) bool {
	switch v := d.(type) {
	case *T:
		return v != nil
	case T:
		return true
	}
	return false
}

func (payloadOf[T]) decode(raw []byte) (any, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%w: data: %w", ErrInvalidEvent, err)
	}
	return v, nil
}

func (payloadOf[T]) zero() any {
	var v T
	return v
}

// typePrefix is what every Type starts with; the rest is its suffix.
const typePrefix = "lpbridge."

// AllTypes returns every event type, agent events first, in a fixed order.
func AllTypes() []Type {
	table := typeTable()
	out := make([]Type, len(table))
	for i, d := range table {
		out[i] = d.typ
	}
	return out
}

// TypeNames returns AllTypes as strings, for label sets that must not
// import this package (telemetry.WithEventTypes).
func TypeNames() []string {
	table := typeTable()
	out := make([]string, len(table))
	for i, d := range table {
		out[i] = string(d.typ)
	}
	return out
}

// Valid reports whether t is one of AllTypes.
func (t Type) Valid() bool {
	_, ok := lookup(t)
	return ok
}

// ZeroData returns the zero value of t's payload struct (e.g. LineData{}),
// or nil when t is unknown. Schema tests read its JSON fields.
func (t Type) ZeroData() any {
	d, ok := lookup(t)
	if !ok {
		return nil
	}
	return d.data.zero()
}

// Suffix is the type without its "lpbridge." prefix, e.g. "chat.line". It
// names the schema file (see SchemaFile) and ends event ids.
func (t Type) Suffix() string {
	return strings.TrimPrefix(string(t), typePrefix)
}

// SchemaFile is the path of t's payload schema in the schemas package,
// e.g. "events/chat.line.json"; its $id and the dataschema of t's events
// are the data schema base + "/" + this path.
func (t Type) SchemaFile() string {
	return "events/" + t.Suffix() + ".json"
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
