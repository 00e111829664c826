package events

import (
	"encoding/json"
	"time"
)

// Session states of SessionData.State.
const (
	SessionStarted   = "started"   // a new agent session was created
	SessionRestarted = "restarted" // the session was lost and a new one created
	SessionResumed   = "resumed"   // an existing session was taken over (restart, new lease owner)
	SessionEnded     = "ended"     // the bridge ended the session (shutdown, logout)
	SessionLost      = "lost"      // the session stopped answering (401, 404: reaped, login gone); re-login follows
	SessionError     = "error"     // the service refused the login for good (401, 451, other 4xx); Reason says why
)

// Causes of StatusData.Cause.
const (
	StatusCauseCommand = "command" // an agent.status command
	StatusCauseService = "service" // the service changed it (e.g. Away after a missed ring)
	StatusCauseStartup = "startup" // the bridge set it when the session started
	StatusCauseRestore = "restore" // the bridge set it back after the service changed it (restoreAvailability)
)

// Values of AcceptedData.AcceptedBy.
const (
	AcceptedByCommand = "command" // a chat.accept command
	AcceptedByAuto    = "auto"    // the bridge's auto-accept
)

// Values of EndedData.EndedBy and TranscriptData.EndedBy.
const (
	EndedByAgent   = "agent"
	EndedByVisitor = "visitor"
	EndedBySystem  = "system"
	EndedByUnknown = "unknown"
)

// Values of TransferredData.Reason: how the bridge learnt that the chat
// left this agent.
const (
	TransferReasonLine      = "transfer-line" // a transfer system line (#13, #15) in the chat
	TransferReasonAgent     = "other-agent"   // the chat's info names another agent
	TransferReasonUnlisted  = "unlisted"      // chat sessions no longer list it, and it did not end
	TransferReasonForbidden = "forbidden"     // the service answered 403 for the chat
	TransferReasonNotFound  = "not-found"     // the service answered 404 for the chat
	TransferReasonGone      = "gone"          // the service answered 410 for the chat
	TransferReasonRejected  = "rejected"      // the service answered 400 for the chat
)

// SessionData is the payload of AgentSession.
type SessionData struct {
	State          string `json:"state"`          // one of the Session* constants
	AgentSessionID string `json:"agentSessionId"` // the service's agent session id ("" when none)
	Reason         string `json:"reason,omitempty"`
}

// StatusData is the payload of AgentStatus.
type StatusData struct {
	Status   string `json:"status"` // Online, Away, Occupied or Offline
	Previous string `json:"previous,omitempty"`
	Cause    string `json:"cause"` // one of the StatusCause* constants
}

// RingingData is the payload of AgentRinging.
type RingingData struct {
	Count int `json:"count"` // chats waiting to be accepted by this agent
}

// AcceptedData is the payload of ChatAccepted.
type AcceptedData struct {
	ChatID     string `json:"chatId"`
	AcceptedBy string `json:"acceptedBy"` // AcceptedByCommand or AcceptedByAuto
}

// LineData is the payload of ChatLine: one line of the chat.
type LineData struct {
	EventID         int             `json:"eventId"`  // the service's event id in the chat
	Text            string          `json:"text"`     // may be empty (system lines, rich content)
	TextType        string          `json:"textType"` // plain, html or rich-content
	By              string          `json:"by"`       // info, visitor, or the agent's nickname
	Source          string          `json:"source"`   // system, agent or visitor
	SubType         string          `json:"subType,omitempty"`
	SystemMessageID int             `json:"systemMessageId,omitempty"`
	JSON            json.RawMessage `json:"json,omitempty"` // structured content of rich-content lines
	Time            time.Time       `json:"time,omitzero"`  // the service's time of the line
}

// StateData is the payload of ChatState.
type StateData struct {
	EventID int    `json:"eventId"`
	State   string `json:"state"` // waiting, chatting or ended
}

// TypingData is the payload of ChatTyping (the visitor's typing state).
type TypingData struct {
	Typing bool `json:"typing"`
}

// InfoData is the payload of ChatInfo: what is known about the visitor and
// the chat. Fields the service does not give are left empty.
type InfoData struct {
	VisitorName     string            `json:"visitorName,omitempty"`
	VisitorID       string            `json:"visitorId,omitempty"`
	Device          string            `json:"device,omitempty"`
	OS              string            `json:"os,omitempty"`
	Browser         string            `json:"browser,omitempty"`
	IP              string            `json:"ip,omitempty"`
	Language        string            `json:"language,omitempty"`
	SkillID         string            `json:"skillId,omitempty"`
	SkillName       string            `json:"skillName,omitempty"`
	PreChatSurvey   []SurveyAnswer    `json:"preChatSurvey,omitempty"`
	CustomVariables map[string]string `json:"customVariables,omitempty"`
	StartTime       time.Time         `json:"startTime,omitzero"`
}

// SurveyAnswer is one answer of a pre-chat survey.
type SurveyAnswer struct {
	QuestionID string `json:"questionId"`
	Label      string `json:"label,omitempty"`
	Value      string `json:"value"`
}

// TransferredData is the payload of ChatTransferred: the chat left this
// agent for a skill or another agent.
type TransferredData struct {
	SkillID string `json:"skillId,omitempty"`
	AgentID string `json:"agentId,omitempty"`
	Text    string `json:"text,omitempty"`
	EventID int    `json:"eventId"`
	Reason  string `json:"reason,omitempty"` // one of the TransferReason* constants
}

// EndedData is the payload of ChatEnded.
type EndedData struct {
	EndedBy string `json:"endedBy"` // one of the EndedBy* constants
	EventID int    `json:"eventId"` // the id of the "ended" state event
}

// TranscriptData is the payload of ChatTranscript: the whole chat, once,
// when it ends.
type TranscriptData struct {
	ChatID    string     `json:"chatId"`
	Info      *InfoData  `json:"info,omitempty"`
	Lines     []LineData `json:"lines"` // never null on the wire
	StartTime time.Time  `json:"startTime,omitzero"`
	EndTime   time.Time  `json:"endTime,omitzero"`
	EndedBy   string     `json:"endedBy"`
}

// MarshalJSON writes Lines as [] rather than null when there are none, as
// the schema requires an array.
func (d TranscriptData) MarshalJSON() ([]byte, error) {
	type plain TranscriptData // drops the method, avoiding recursion
	if d.Lines == nil {
		d.Lines = []LineData{}
	}
	return json.Marshal(plain(d))
}

// CommandResultData is the payload of CommandResult: the outcome of one
// command, as in its reply.
type CommandResultData struct {
	CommandID string          `json:"commandId"`
	Command   string          `json:"command"` // e.g. "chat.send"
	OK        bool            `json:"ok"`
	Result    json.RawMessage `json:"result,omitempty"` // set when OK
	Error     *CommandError   `json:"error,omitempty"`  // set when not OK
}

// CommandError is the error of a failed command (codes: schemas/commands/reply.json).
type CommandError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
