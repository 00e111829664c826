package lpchat

import (
	"encoding/json"
	"time"
)

// Availability is an agent's chat availability as the API spells it.
type Availability string

// Chat availability values (chat-agent-api.md §7).
const (
	Online   Availability = "Online"
	Away     Availability = "Away"
	Occupied Availability = "Occupied"
	Offline  Availability = "Offline"
)

// Credentials log an agent in: a password (user login, §4.1), an OAuth2
// client-credentials app (AppKey = client id, Secret = client secret, no
// tokens: lpchat sends "dummy" in both; see OAuth2App), or the four values
// of an OAuth1 API key (end of life). String and LogValue never reveal
// secrets.
type Credentials struct {
	Username          string
	Password          string
	AppKey            string
	Secret            string
	AccessToken       string
	AccessTokenSecret string
}

// LoginSession is what a successful login returns. Bearer and CSRF are
// secrets: they never appear in errors or logs.
type LoginSession struct {
	Bearer     string
	CSRF       string
	TTL        time.Duration // sessionTTl; zero when the service sent none
	UserID     string
	LoginName  string
	ServerTime time.Time         // config.serverCurrentTime
	BaseURIs   map[string]string // service name → host, from csdsCollectionResponse
}

// AgentStatus is the availability resource (§5.3).
type AgentStatus struct {
	Chat  Availability
	Voice string
}

// Skill is a skill the account defines.
type Skill struct {
	ID           string
	Name         string
	OnlineAgents int // only on transfer skills (§5.19)
}

// AgentInfo is the agent information resource (§5.5).
type AgentInfo struct {
	ID           string
	AgentName    string // nickname shown to visitors
	DisplayName  string
	LoginName    string
	MaxChats     int // -1 = unlimited
	Availability AgentStatus
	Skills       []Skill
}

// AvailableAgent is one entry of the available-agents resource (§5.6).
type AvailableAgent struct {
	ID             string
	UserName       string
	Nickname       string
	Email          string
	PrivilegeGroup string
	ChatState      Availability // decoded from the numeric @chatState code
	VoiceState     Availability
	MaxChats       int
	Chats          int
	SkillIDs       []string
}

// AgentFilter narrows the available agents (§5.6); empty fields are omitted.
type AgentFilter struct {
	Skill        string // skill name
	ChatState    Availability
	VoiceState   Availability
	ChatReasonID string
}

// SlotQuery asks for available slots (§5.7): Skill (+ MaxWaitTime) or Agent.
type SlotQuery struct {
	Skill       string
	MaxWaitTime time.Duration
	Agent       string
}

// Ringing is the incoming-requests resource (§5.8).
type Ringing struct {
	Count int
}

// ChatSession is one chat the agent session holds (§5.10).
type ChatSession struct {
	ChatID    string // chatSessionKey
	URL       string
	StartTime time.Time
}

// Event is one chat event (§6). ID is the per-chat sequence number.
type Event struct {
	ID              int
	Type            EventType // EventLine or EventState (others passed through)
	Time            time.Time
	Text            string
	TextType        TextType
	By              string
	Source          Source
	SystemMessageID SystemMessage // 0 when absent
	SubType         SubType       // a SubType: REGULAR, ONLY_TO_REP
	JSON            json.RawMessage
	State           ChatState // on state events
}

// ChatInfo is the chat information resource (§5.16).
type ChatInfo struct {
	State          string // a ChatState
	ChatSessionKey string
	AgentName      string
	AgentID        string
	StartTime      time.Time
	LastUpdate     time.Time
	ChatTimeout    int // seconds
	VisitorID      string
	VisitorName    string
	AgentTyping    string // a Typing value
	VisitorTyping  string // a Typing value
	RTSessionID    string
	ParticipantID  string
	EngagementID   string
	CampaignID     string
	Language       string
	SkillID        string
	SkillName      string
}

// Chat is a chat resource (§5.11) or one chat of a multi-chat answer (§5.12).
type Chat struct {
	ID       string
	URL      string
	Events   []Event
	Info     *ChatInfo         // nil when the document had none
	Links    map[string]string // rel → absolute href (without v/NC) of the links the client reads: self, next, visit-id
	NextFrom int               // from= of the events-level next link; -1 if none
	VisitID  string            // last segment of the visit-id link
	Error    string            // an "error" member inside the chat document
	Skipped  []Skipped         // values that did not decode and were left out
}

// ChatCursor asks the multi-chat resource for one chat's new events.
// LastEventID is the last id already seen, -1 for none (§5.12).
type ChatCursor struct {
	ChatID      string
	LastEventID int
}

// Line is a line the agent sends (§5.14).
type Line struct {
	Text     string
	TextType TextType        // a TextType; plain when empty
	JSON     json.RawMessage // structured content for rich-content
	SubType  SubType         // "" or a SubType
}

// Transfer moves a chat to a skill or an agent (§5.19). AgentID wins.
type Transfer struct {
	SkillID string
	AgentID string
	Text    string
}

// Visit is the visit resource (§5.22): visitor details and the pre-chat survey.
// Its body is undocumented, so unknown parts are kept in Raw.
type Visit struct {
	ID            string
	Device        string
	OS            string
	Browser       string
	IP            string
	PreChatSurvey []SurveyAnswer
	Raw           json.RawMessage
}

// SurveyAnswer is one answered question of a survey.
type SurveyAnswer struct {
	QuestionID string
	Label      string
	Value      string
}

// CustomVariable is one custom variable of a visit.
type CustomVariable struct {
	Name  string
	Value string
}
