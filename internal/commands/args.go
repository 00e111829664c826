package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// Command bodies (schemas/commands/<command>.json is the contract; these
// structs decode what the schema accepted, and check again what the code
// relies on, so a lax schema cannot crash a handler). The command table
// (command.go) says which command decodes into which.

// noArgs is an empty body: {}.
type noArgs struct{}

func (noArgs) check() error { return nil }

// chatArgs is a body naming one chat.
type chatArgs struct {
	ChatID string `json:"chatId"`
}

func (a chatArgs) check() error { return checkChatID(a.ChatID) }

// sendArgs is the body of chat.send.
type sendArgs struct {
	ChatID   string          `json:"chatId"`
	Text     string          `json:"text"`
	TextType lpchat.TextType `json:"textType,omitempty"` // plain (default), html, rich-content
	JSON     json.RawMessage `json:"json,omitempty"`     // structured content of rich-content
	SubType  lpchat.SubType  `json:"subType,omitempty"`  // "" / REGULAR, or ONLY_TO_REP: agents only
}

func (a sendArgs) check() error {
	if err := checkChatID(a.ChatID); err != nil {
		return err
	}
	switch a.TextType {
	case "", lpchat.TextPlain, lpchat.TextHTML:
		if a.Text == "" {
			return failf(CodeBadRequest, `"text" must not be empty`)
		}
		if len(a.JSON) > 0 {
			return failf(CodeBadRequest, `"json" is only for textType rich-content`)
		}
	case lpchat.TextRichContent:
		if len(bytes.TrimSpace(a.JSON)) == 0 || bytes.Equal(bytes.TrimSpace(a.JSON), []byte("null")) {
			return failf(CodeBadRequest, `textType rich-content needs "json"`)
		}
	default:
		return failf(CodeBadRequest, "textType %q: want plain, html or rich-content", a.TextType)
	}
	switch a.SubType {
	case "", lpchat.SubTypeRegular, lpchat.SubTypeOnlyToRep:
	default:
		return failf(CodeBadRequest, "subType %q: want REGULAR or ONLY_TO_REP", a.SubType)
	}
	return nil
}

// typingArgs is the body of chat.typing.
type typingArgs struct {
	ChatID string `json:"chatId"`
	Typing *bool  `json:"typing"`
}

func (a typingArgs) check() error {
	if err := checkChatID(a.ChatID); err != nil {
		return err
	}
	if a.Typing == nil {
		return failf(CodeBadRequest, `"typing" is required`)
	}
	return nil
}

// transferArgs is the body of chat.transfer: a skill or an agent (the agent
// wins when both are given, as in the API), and a note for the receiver.
type transferArgs struct {
	ChatID  string  `json:"chatId"`
	SkillID numeric `json:"skillId,omitempty"`
	AgentID numeric `json:"agentId,omitempty"`
	Text    string  `json:"text,omitempty"`
}

func (a transferArgs) check() error {
	if err := checkChatID(a.ChatID); err != nil {
		return err
	}
	if a.SkillID == "" && a.AgentID == "" {
		return failf(CodeBadRequest, `chat.transfer needs "skillId" or "agentId"`)
	}
	return nil
}

// statusArgs is the body of agent.status.
type statusArgs struct {
	Status lpchat.Availability `json:"status"`
}

func (a statusArgs) check() error {
	switch a.Status {
	case lpchat.Online, lpchat.Away, lpchat.Occupied:
		return nil
	}
	return failf(CodeBadRequest, "status %q: want Online, Away or Occupied", a.Status)
}

// availableAgentsArgs is the body of agent.available-agents: optional filters.
type availableAgentsArgs struct {
	Skill        string              `json:"skill,omitempty"`     // skill name
	ChatState    lpchat.Availability `json:"chatState,omitempty"` // Online, Away, Occupied, Offline
	VoiceState   lpchat.Availability `json:"voiceState,omitempty"`
	ChatReasonID numeric             `json:"chatReasonId,omitempty"`
}

func (a availableAgentsArgs) check() error {
	for name, v := range map[string]lpchat.Availability{"chatState": a.ChatState, "voiceState": a.VoiceState} {
		switch v {
		case "", lpchat.Online, lpchat.Away, lpchat.Occupied, lpchat.Offline:
		default:
			return failf(CodeBadRequest, "%s %q: want Online, Away, Occupied or Offline", name, v)
		}
	}
	return nil
}

// availableSlotsArgs is the body of agent.available-slots: a skill (with
// an optional wait in seconds) or an agent.
type availableSlotsArgs struct {
	Skill       string `json:"skill,omitempty"`
	MaxWaitTime int    `json:"maxWaitTime,omitempty"` // seconds
	Agent       string `json:"agent,omitempty"`
}

func (a availableSlotsArgs) check() error {
	if a.Skill == "" && a.Agent == "" {
		return failf(CodeBadRequest, `agent.available-slots needs "skill" or "agent"`)
	}
	if a.MaxWaitTime < 0 {
		return failf(CodeBadRequest, `"maxWaitTime" must not be negative`)
	}
	return nil
}

// numeric is an id given as a string of digits or as a JSON integer (the
// API's ids are numeric strings; JSON clients often send numbers).
type numeric string

// UnmarshalJSON accepts "123" and 123.
func (n *numeric) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*n = numeric(s)
		return nil
	}
	var i uint64
	if err := json.Unmarshal(b, &i); err != nil {
		return fmt.Errorf("want a string of digits or a non-negative integer, got %s", b)
	}
	*n = numeric(strconv.FormatUint(i, 10))
	return nil
}

// maxChatIDBytes bounds a chat id; real ones are about 60 bytes.
const maxChatIDBytes = 256

// checkChatID rejects chat ids no service would issue. lpchat escapes the
// id in the URL, so this is about clear errors, not safety.
func checkChatID(id string) error {
	if id == "" {
		return failf(CodeBadRequest, `"chatId" is required`)
	}
	if len(id) > maxChatIDBytes || !utf8.ValidString(id) {
		return failf(CodeBadRequest, `"chatId" is not a chat id`)
	}
	for _, r := range id {
		if r <= ' ' || r == '/' || r == '?' || r == '#' || r == 0x7f {
			return failf(CodeBadRequest, `"chatId" is not a chat id`)
		}
	}
	return nil
}

// checker is a decoded body that can check itself.
type checker interface{ check() error }

// decodeArgs decodes a body strictly into T and checks it.
func decodeArgs[T checker](body []byte) (T, error) {
	var a T
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return a, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("body: %s", trimError(err)), cause: err}
	}
	return a, a.check()
}
