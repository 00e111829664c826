package lpchat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

// ChatInfo returns the chat information: GET {chat}/info (§5.16).
func (s *AgentSession) ChatInfo(ctx context.Context, chatID string) (ChatInfo, error) {
	const op = "chat info"
	if chatID == "" {
		return ChatInfo{}, opError(op, ErrBadRequest, errEmptyChatID)
	}
	chat, err := s.chatURL(ctx, chatID)
	if err != nil {
		return ChatInfo{}, err
	}
	raw, err := s.getBody(ctx, OpChatInfo, op, apiURL(chat+"/info"))
	if err != nil {
		return ChatInfo{}, err
	}
	info, present, err := decodeChatInfo(raw)
	if err != nil {
		return ChatInfo{}, protocolError(op, "decode", err)
	}
	if !present {
		return ChatInfo{}, protocolError(op, "info element missing", nil)
	}
	return info, nil
}

// infoString GETs {chat}/info/<key> and returns the element key, whose
// wrapper is unconfirmed (§5.17, §5.18): {"key": "v"}, {"key": {"key": "v"}}
// and a bare "v" are accepted.
func (s *AgentSession) infoString(ctx context.Context, name Operation, op, chatID, key string) (string, error) {
	if chatID == "" {
		return "", opError(op, ErrBadRequest, errEmptyChatID)
	}
	chat, err := s.chatURL(ctx, chatID)
	if err != nil {
		return "", err
	}
	raw, err := s.getRaw(ctx, name, op, apiURL(chat+"/info/"+key))
	if err != nil {
		return "", err
	}
	v, ok := stringish(raw, key)
	if !ok {
		return "", protocolError(op, key+" element missing", nil)
	}
	return v, nil
}

// VisitorName returns the visitor's name: GET {chat}/info/visitorName (§5.17).
func (s *AgentSession) VisitorName(ctx context.Context, chatID string) (string, error) {
	return s.infoString(ctx, OpChatVisitorName, "visitor name", chatID, "visitorName")
}

// AgentTyping returns the agent's typing status (typing, not-typing,
// unknown): GET {chat}/info/agentTyping (§5.18).
func (s *AgentSession) AgentTyping(ctx context.Context, chatID string) (string, error) {
	return s.infoString(ctx, OpChatAgentTyping, "agent typing", chatID, "agentTyping")
}

// VisitorTyping returns the visitor's typing status: GET
// {chat}/info/visitorTyping (§5.18).
func (s *AgentSession) VisitorTyping(ctx context.Context, chatID string) (string, error) {
	return s.infoString(ctx, OpChatVisitorTyping, "visitor typing", chatID, "visitorTyping")
}

// SetAgentTyping sets the agent's typing status: POST +
// X-HTTP-Method-Override: PUT {chat}/info/agentTyping with
// {"agentTyping": "typing"|"not-typing"} (§5.18) → 201.
func (s *AgentSession) SetAgentTyping(ctx context.Context, chatID string, typing bool) error {
	const op = "set agent typing"
	if chatID == "" {
		return opError(op, ErrBadRequest, errEmptyChatID)
	}
	chat, err := s.chatURL(ctx, chatID)
	if err != nil {
		return err
	}
	v := string(TypingOff)
	if typing {
		v = string(TypingOn)
	}
	_, err = s.post(ctx, OpChatAgentTypingSet, op, apiURL(chat+"/info/agentTyping"), "PUT", map[string]string{"agentTyping": v}, false)
	return err
}

// TransferSkills lists the skills the chat can be transferred to: GET
// {chat}/transfer (§5.19).
func (s *AgentSession) TransferSkills(ctx context.Context, chatID string) ([]Skill, error) {
	const op = "transfer skills"
	if chatID == "" {
		return nil, opError(op, ErrBadRequest, errEmptyChatID)
	}
	chat, err := s.chatURL(ctx, chatID)
	if err != nil {
		return nil, err
	}
	raw, err := s.getBody(ctx, OpChatTransfer, op, apiURL(chat+"/transfer"))
	if err != nil {
		return nil, err
	}
	skills, err := decodeTransferSkills(raw)
	if err != nil {
		return nil, protocolError(op, "decode", err)
	}
	return skills, nil
}

// decodeTransferSkills decodes {"transfer": {"skill": one or many}}.
func decodeTransferSkills(b []byte) ([]Skill, error) {
	var doc struct {
		Transfer *maybe[struct {
			Skill oneOrMany[wireSkill] `json:"skill"`
		}] `json:"transfer"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Transfer == nil {
		return nil, fmt.Errorf("transfer element missing")
	}
	out := make([]Skill, 0, len(doc.Transfer.V.Skill))
	for _, w := range doc.Transfer.V.Skill {
		out = append(out, w.skill())
	}
	return out, nil
}

// wireTransfer is the transfer request (§5.19). Text may also sit beside
// transfer (the sample app's placement); decodeTransfer accepts both.
type wireTransfer struct {
	Transfer struct {
		Skill *wireRef `json:"skill,omitempty"`
		Agent *wireRef `json:"agent,omitempty"`
		Text  string   `json:"text,omitempty"`
	} `json:"transfer"`
	Text string `json:"text,omitempty"`
}

// wireRef is {"id": N}; numeric ids are sent as JSON numbers, as documented.
type wireRef struct {
	ID json.RawMessage `json:"id"`
}

// refID encodes an id as a JSON number when it is one, else as a string.
func refID(id string) *wireRef {
	if n, err := parseFlexInt(id); err == nil && fmt.Sprint(n) == id {
		return &wireRef{ID: json.RawMessage(id)}
	}
	b, _ := json.Marshal(id) // a string always marshals
	return &wireRef{ID: b}
}

// transferBody builds the request: agent wins over skill (§5.19), so only
// one of them is sent.
func transferBody(t Transfer) (wireTransfer, error) {
	var w wireTransfer
	switch {
	case t.AgentID != "":
		w.Transfer.Agent = refID(t.AgentID)
	case t.SkillID != "":
		w.Transfer.Skill = refID(t.SkillID)
	default:
		return w, fmt.Errorf("a skill or agent id is required")
	}
	w.Transfer.Text = t.Text
	return w, nil
}

// decodeTransfer reads a transfer request, text inside or beside transfer.
func decodeTransfer(b []byte) (Transfer, error) {
	var doc struct {
		Transfer *struct {
			Skill *struct {
				ID flexString `json:"id"`
			} `json:"skill"`
			Agent *struct {
				ID flexString `json:"id"`
			} `json:"agent"`
			Text flexString `json:"text"`
		} `json:"transfer"`
		Text flexString `json:"text"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return Transfer{}, err
	}
	if doc.Transfer == nil {
		return Transfer{}, fmt.Errorf("transfer element missing")
	}
	var t Transfer
	if doc.Transfer.Skill != nil {
		t.SkillID = string(doc.Transfer.Skill.ID)
	}
	if doc.Transfer.Agent != nil {
		t.AgentID = string(doc.Transfer.Agent.ID)
	}
	t.Text = string(doc.Transfer.Text)
	if t.Text == "" {
		t.Text = string(doc.Text)
	}
	return t, nil
}

// Transfer moves the chat to a skill or an agent: POST {chat}/transfer
// (§5.19) → 200. Not retried on ambiguous failures (ErrAmbiguous).
func (s *AgentSession) Transfer(ctx context.Context, chatID string, t Transfer) error {
	const op = "transfer"
	if chatID == "" {
		return opError(op, ErrBadRequest, errEmptyChatID)
	}
	body, err := transferBody(t)
	if err != nil {
		return opError(op, ErrBadRequest, err)
	}
	chat, err := s.chatURL(ctx, chatID)
	if err != nil {
		return err
	}
	_, err = s.post(ctx, OpChatTransferSubmit, op, apiURL(chat+"/transfer"), "", body, true)
	return err
}

// Survey returns the agent survey structure: GET {chat}/survey (§5.20). Its
// wrapper is unconfirmed, so the body is returned as is.
func (s *AgentSession) Survey(ctx context.Context, chatID string) (json.RawMessage, error) {
	const op = "survey"
	if chatID == "" {
		return nil, opError(op, ErrBadRequest, errEmptyChatID)
	}
	chat, err := s.chatURL(ctx, chatID)
	if err != nil {
		return nil, err
	}
	return s.getRaw(ctx, OpChatSurvey, op, apiURL(chat+"/survey"))
}

// surveyBody builds {"survey": {"questions": {"question": [{"id", "answer"}]}}}
// (§5.20, the server-side chat API's shape; unconfirmed for this API).
// Several answers to one question (checkboxes) become an answer array.
func surveyBody(answers []SurveyAnswer) (any, error) {
	type question struct {
		ID     string `json:"id"`
		Answer any    `json:"answer"`
	}
	var qs []question
	index := map[string]int{}
	for _, a := range answers {
		if a.QuestionID == "" {
			return nil, fmt.Errorf("answer without a question id")
		}
		i, seen := index[a.QuestionID]
		if !seen {
			index[a.QuestionID] = len(qs)
			qs = append(qs, question{ID: a.QuestionID, Answer: a.Value})
			continue
		}
		switch v := qs[i].Answer.(type) {
		case string:
			qs[i].Answer = []string{v, a.Value}
		case []string:
			v = append(v, a.Value)
			qs[i].Answer = v
		}
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("no answers")
	}
	return map[string]any{"survey": map[string]any{"questions": map[string]any{"question": qs}}}, nil
}

// SubmitSurvey submits the agent survey: POST + X-HTTP-Method-Override: PUT
// {chat}/survey (§5.20) → 200.
func (s *AgentSession) SubmitSurvey(ctx context.Context, chatID string, answers []SurveyAnswer) error {
	const op = "submit survey"
	if chatID == "" {
		return opError(op, ErrBadRequest, errEmptyChatID)
	}
	body, err := surveyBody(answers)
	if err != nil {
		return opError(op, ErrBadRequest, err)
	}
	chat, err := s.chatURL(ctx, chatID)
	if err != nil {
		return err
	}
	_, err = s.post(ctx, OpChatSurveySubmit, op, apiURL(chat+"/survey"), "PUT", body, false)
	return err
}

// ParticipantInfo returns an SSO-authenticated visitor's details: GET
// {as}/participantExtendedInfo/{participantID} (§5.21), as is.
func (s *AgentSession) ParticipantInfo(ctx context.Context, participantID string) (json.RawMessage, error) {
	const op = "participant info"
	if participantID == "" {
		return nil, opError(op, ErrBadRequest, fmt.Errorf("empty participant id"))
	}
	as, err := s.asURL(ctx)
	if err != nil {
		return nil, err
	}
	return s.getRaw(ctx, OpParticipantInfo, op, apiURL(as+"/participantExtendedInfo/"+url.PathEscape(participantID)))
}
