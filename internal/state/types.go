package state

// Cursor is the progress of one chat of one agent.
type Cursor struct {
	// LastEventID is the service's id of the last chat event published;
	// -1 when none was (see NewCursor).
	LastEventID int `json:"lastEventId"`
	// Seq is the last per-chat sequence number used (events.Event.Seq).
	Seq int64 `json:"seq"`
	// Done means the transcript was published; the chat needs no more polling.
	Done bool `json:"done"`
	// Accepted means the ChatAccepted event was published.
	Accepted bool `json:"accepted,omitempty"`
	// Left means the chat left the agent (chat.transferred was published):
	// it is followed again only once the agent takes it again, not when a
	// worker resumes the agent's chats.
	Left bool `json:"left,omitempty"`
	// Typing is the visitor typing state last published.
	Typing bool `json:"typing,omitempty"`
	// TypingVersion counts typing events published (events.IDForChatVersion).
	TypingVersion int64 `json:"typingVersion,omitempty"`
	// InfoVersion counts info events published (events.IDForChatVersion).
	InfoVersion int64 `json:"infoVersion,omitempty"`
	// InfoHash is a digest of the info last published, to publish only changes.
	InfoHash string `json:"infoHash,omitempty"`
}

// NewCursor is the cursor of a chat nothing was published for yet.
func NewCursor() Cursor { return Cursor{LastEventID: -1} }

func (c Cursor) valid() bool {
	return c.LastEventID >= -1 && c.Seq >= 0 && c.TypingVersion >= 0 && c.InfoVersion >= 0
}

// AgentState is what the bridge knows of one configured agent.
type AgentState struct {
	// AgentSessionID is the service's id of the current agent session ("" when none).
	AgentSessionID string `json:"agentSessionId"`
	// Change counts agent-level events published (events.IDForAgentChange);
	// it is also their Seq.
	Change int64 `json:"change"`
	// Status is the last availability published (Online, Away, Occupied).
	Status string `json:"status,omitempty"`
	// Ringing is the last ringing count published.
	Ringing int `json:"ringing"`
	// Chats are the ids of the agent's open chats.
	Chats []string `json:"chats,omitempty"`
}

func (a AgentState) valid() bool {
	return a.Change >= 0 && a.Ringing >= 0
}
