package lpchat

import "strings"

// The API's words, in one place (chat-agent-api.md §2.4, §2.5, §5.14,
// §5.18, §6, §7; availability values are in types.go). Decoding stays
// tolerant: a word not named here still decodes and is passed on as it
// came, so a typed field may hold a value outside these lists.

// EventType is a chat event's @type (§6.1).
type EventType string

// Event types of the agent side (§6.1); others (resource, url, ...) are
// passed through.
const (
	EventLine  EventType = "line"
	EventState EventType = "state"
)

// ChatState is a chat's state, on state events and in chat info (§6.3, §5.16).
type ChatState string

// Chat states, in the order a chat goes through them (§6.3).
const (
	ChatWaiting  ChatState = "waiting"
	ChatChatting ChatState = "chatting"
	ChatEnded    ChatState = "ended"
)

// Source says who wrote a line (§6.2).
type Source string

// Sources of a line (§6.2).
const (
	SourceVisitor Source = "visitor"
	SourceAgent   Source = "agent"
	SourceSystem  Source = "system"
)

// SystemMessage is the systemMessageId of a system line (§6.4).
type SystemMessage int

// System messages the bridge acts on (§6.4); the others pass through as
// numbers.
const (
	SysAgentEnded    SystemMessage = 5  // the agent ended the chat
	SysDisconnected  SystemMessage = 6  // the chat disconnected: the visitor left
	SysTransferAgent SystemMessage = 13 // the chat was transferred to an agent
	SysTransferSkill SystemMessage = 15 // the chat was transferred to another skill
)

// TextType is a line's textType (§6.2, §5.14).
type TextType string

// Text types of a line (§5.14); plain is the default when a line has none.
const (
	TextPlain       TextType = "plain"
	TextHTML        TextType = "html"
	TextRichContent TextType = "rich-content"
)

// SubType is a line's subType (§5.14).
type SubType string

// Line subtypes (§5.14).
const (
	SubTypeRegular   SubType = "REGULAR"     // a normal line
	SubTypeOnlyToRep SubType = "ONLY_TO_REP" // visible to agents only
)

// Typing is a typing status, of the agent or the visitor (§5.18).
type Typing string

// Typing values (§5.18, §7).
const (
	TypingOn      Typing = "typing"
	TypingOff     Typing = "not-typing"
	TypingUnknown Typing = "unknown"
)

// Relation names (@rel) of the links the client follows (§2.5).
const (
	relSelf        = "self"
	relNext        = "next"
	relVisitID     = "visit-id"
	relLocation    = "location"
	relChatSession = "chat-session"
)

// VisitIDOf derives the visit id from a chat id: the H<digits> part plus
// the K<digits> part of H<digits>-<token>K<digits>, as LivePerson's Postman
// collection does (§2.4); "" for an id of another shape. A chat's visit-id
// link, when there is one, says it directly and wins. Only the documented
// shape counts: a guess from another id names a visit that does not exist
// and costs two requests that fail.
func VisitIDOf(chatID string) string {
	dash := strings.IndexByte(chatID, '-')
	k := strings.LastIndexByte(chatID, 'K')
	if dash < 2 || k <= dash || k == len(chatID)-1 || chatID[0] != 'H' ||
		!allDigits(chatID[1:dash]) || !allDigits(chatID[k+1:]) || strings.IndexByte(chatID, '/') >= 0 {
		return ""
	}
	return chatID[:dash] + chatID[k:]
}

// allDigits reports a non-empty string of ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
