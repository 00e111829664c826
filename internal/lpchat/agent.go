package lpchat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// wireAvailability is the availability element (§5.3, §5.4).
type wireAvailability struct {
	Chat  flexString `json:"chat"`
	Voice flexString `json:"voice"`
}

// status converts the element.
func (w wireAvailability) status() AgentStatus {
	return AgentStatus{Chat: Availability(w.Chat), Voice: string(w.Voice)}
}

// Availability returns the agent's availability: GET {as}/availability (§5.3).
func (s *AgentSession) Availability(ctx context.Context) (AgentStatus, error) {
	const op = "availability"
	as, err := s.asURL(ctx)
	if err != nil {
		return AgentStatus{}, err
	}
	var doc struct {
		Availability *wireAvailability `json:"availability"`
	}
	if err := s.getJSON(ctx, OpAvailability, op, apiURL(as+"/availability"), &doc); err != nil {
		return AgentStatus{}, err
	}
	if doc.Availability == nil {
		return AgentStatus{}, protocolError(op, "availability element missing", nil)
	}
	return doc.Availability.status(), nil
}

// SetAvailability sets the agent's chat availability: POST +
// X-HTTP-Method-Override: PUT {as}/availability (§5.4). The response body is
// undocumented; when it holds no availability, AgentStatus{Chat: a} is
// returned.
func (s *AgentSession) SetAvailability(ctx context.Context, a Availability) (AgentStatus, error) {
	const op = "set availability"
	if a == "" {
		return AgentStatus{}, opError(op, ErrBadRequest, fmt.Errorf("empty availability"))
	}
	as, err := s.asURL(ctx)
	if err != nil {
		return AgentStatus{}, err
	}
	body := map[string]any{"availability": map[string]string{"chat": string(a)}}
	res, err := s.post(ctx, OpAvailabilitySet, op, apiURL(as+"/availability"), "PUT", body, false)
	if err != nil {
		return AgentStatus{}, err
	}
	var doc struct {
		Availability *wireAvailability `json:"availability"`
	}
	if len(res.body) > 0 && json.Unmarshal(res.body, &doc) == nil &&
		doc.Availability != nil && doc.Availability.Chat != "" {
		return doc.Availability.status(), nil
	}
	return AgentStatus{Chat: a}, nil
}

// wireSkill is a skill or skillInfo element (§5.5, §5.19).
type wireSkill struct {
	AtID         flexString `json:"@id"`
	ID           flexString `json:"id"`
	Name         flexString `json:"name"`
	OnlineAgents flexInt    `json:"onlineAgents"`
}

// skill converts the element.
func (w wireSkill) skill() Skill {
	id := w.ID
	if w.AtID != "" {
		id = w.AtID
	}
	return Skill{ID: string(id), Name: string(w.Name), OnlineAgents: int(w.OnlineAgents)}
}

// wireAgentInfo is the info element of the agent (§5.5).
type wireAgentInfo struct {
	ID           flexString       `json:"id"`
	AgentName    flexString       `json:"agentName"`
	DisplayName  flexString       `json:"displayName"`
	LoginName    flexString       `json:"loginName"`
	MaxChats     flexInt          `json:"maxChats"`
	Availability wireAvailability `json:"availability"`
	SkillsInfo   maybe[struct {
		SkillInfo oneOrMany[wireSkill] `json:"skillInfo"`
	}] `json:"skillsInfo"`
}

// decodeAgentInfo decodes {"info": {...}} of §5.5.
func decodeAgentInfo(b []byte) (AgentInfo, error) {
	var doc struct {
		Info maybe[wireAgentInfo] `json:"info"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return AgentInfo{}, err
	}
	if !doc.Info.Present {
		return AgentInfo{}, fmt.Errorf("info element missing")
	}
	w := doc.Info.V
	info := AgentInfo{
		ID: string(w.ID), AgentName: string(w.AgentName), DisplayName: string(w.DisplayName),
		LoginName: string(w.LoginName), MaxChats: int(w.MaxChats), Availability: w.Availability.status(),
	}
	for _, sk := range w.SkillsInfo.V.SkillInfo {
		info.Skills = append(info.Skills, sk.skill())
	}
	return info, nil
}

// Info returns the agent's information: GET {as}/info (§5.5).
func (s *AgentSession) Info(ctx context.Context) (AgentInfo, error) {
	const op = "agent info"
	as, err := s.asURL(ctx)
	if err != nil {
		return AgentInfo{}, err
	}
	raw, err := s.getBody(ctx, OpAgentInfo, op, apiURL(as+"/info"))
	if err != nil {
		return AgentInfo{}, err
	}
	info, err := decodeAgentInfo(raw)
	if err != nil {
		return AgentInfo{}, protocolError(op, "decode", err)
	}
	return info, nil
}

// AvailableAgents lists the account's agents: GET {as}/availableAgents (§5.6)
// with the non-empty filters of f as query parameters.
func (s *AgentSession) AvailableAgents(ctx context.Context, f AgentFilter) ([]AvailableAgent, error) {
	const op = "available agents"
	as, err := s.asURL(ctx)
	if err != nil {
		return nil, err
	}
	var params []queryParam
	for _, p := range []queryParam{
		{"skill", f.Skill}, {"chatState", string(f.ChatState)},
		{"voiceState", string(f.VoiceState)}, {"chatReasonId", f.ChatReasonID},
	} {
		if p.value != "" {
			params = append(params, queryParam{p.key, url.QueryEscape(p.value)})
		}
	}
	raw, err := s.getBody(ctx, OpAvailableAgents, op, apiURL(as+"/availableAgents", params...))
	if err != nil {
		return nil, err
	}
	agents, err := decodeAvailableAgents(raw)
	if err != nil {
		return nil, protocolError(op, "decode", err)
	}
	return agents, nil
}

// wireAvailableAgent is one agent element of §5.6.
type wireAvailableAgent struct {
	AtID           flexString `json:"@id"`
	ID             flexString `json:"id"`
	AtChatState    flexString `json:"@chatState"`
	ChatState      flexString `json:"chatState"`
	AtVoiceState   flexString `json:"@voiceState"`
	VoiceState     flexString `json:"voiceState"`
	AtMaxChats     *flexInt   `json:"@maxChats"`
	MaxChats       *flexInt   `json:"maxChats"`
	Chats          flexInt    `json:"chats"` // missing = 0 (as the sample app does)
	Email          flexString `json:"email"`
	Nickname       flexString `json:"nickname"`
	PrivilegeGroup flexString `json:"privilegeGroup"`
	UserName       flexString `json:"userName"`
	Skills         maybe[struct {
		Skill oneOrMany[json.RawMessage] `json:"skill"`
	}] `json:"skills"`
}

// decodeAvailableAgents decodes {"availableAgents": {"agents": {"agent": ...}}}.
func decodeAvailableAgents(b []byte) ([]AvailableAgent, error) {
	var doc struct {
		AvailableAgents *maybe[struct {
			Agents maybe[struct {
				Agent oneOrMany[wireAvailableAgent] `json:"agent"`
			}] `json:"agents"`
		}] `json:"availableAgents"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.AvailableAgents == nil {
		return nil, fmt.Errorf("availableAgents element missing")
	}
	ws := doc.AvailableAgents.V.Agents.V.Agent
	out := make([]AvailableAgent, 0, len(ws))
	for _, w := range ws {
		a := AvailableAgent{
			ID:         string(firstNonEmpty(w.AtID, w.ID)),
			UserName:   string(w.UserName),
			Nickname:   string(w.Nickname),
			Email:      string(w.Email),
			ChatState:  stateFromCode(string(firstNonEmpty(w.AtChatState, w.ChatState))),
			VoiceState: stateFromCode(string(firstNonEmpty(w.AtVoiceState, w.VoiceState))),
			Chats:      int(w.Chats),

			PrivilegeGroup: string(w.PrivilegeGroup),
		}
		switch {
		case w.AtMaxChats != nil:
			a.MaxChats = int(*w.AtMaxChats)
		case w.MaxChats != nil:
			a.MaxChats = int(*w.MaxChats)
		}
		for _, raw := range w.Skills.V.Skill {
			if id, ok := stringish(raw, "id"); ok && id != "" {
				a.SkillIDs = append(a.SkillIDs, id)
			} else if id, ok := stringish(raw, "@id"); ok && id != "" {
				a.SkillIDs = append(a.SkillIDs, id)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// firstNonEmpty returns the first non-empty value.
func firstNonEmpty(vs ...flexString) flexString {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// stateFromCode maps the numeric agent state codes of §5.6 (1 Offline,
// 2 Online, 3 Occupied, 4 Away); a name is passed through.
func stateFromCode(code string) Availability {
	switch code {
	case "1":
		return Offline
	case "2":
		return Online
	case "3":
		return Occupied
	case "4":
		return Away
	}
	return Availability(code)
}

// maxWaitTimeLimit is the largest maxWaitTime the API accepts (§5.7).
const maxWaitTimeLimit = 86400 * time.Second

// AvailableSlots estimates free chat slots: GET {as}/chat/availableSlots
// (§5.7) with skill + maxWaitTime, or agent. -1 means unlimited.
func (s *AgentSession) AvailableSlots(ctx context.Context, q SlotQuery) (int, error) {
	const op = "available slots"
	if q.Agent != "" && (q.Skill != "" || q.MaxWaitTime != 0) {
		return 0, opError(op, ErrBadRequest, fmt.Errorf("agent cannot be combined with skill or maxWaitTime"))
	}
	if q.MaxWaitTime < 0 || q.MaxWaitTime > maxWaitTimeLimit {
		return 0, opError(op, ErrBadRequest, fmt.Errorf("maxWaitTime must be within 0-86400 s"))
	}
	as, err := s.asURL(ctx)
	if err != nil {
		return 0, err
	}
	var params []queryParam
	if q.Skill != "" {
		params = append(params, queryParam{"skill", url.QueryEscape(q.Skill)},
			queryParam{"maxWaitTime", strconv.Itoa(int(q.MaxWaitTime / time.Second))})
	}
	if q.Agent != "" {
		params = append(params, queryParam{"agent", url.QueryEscape(q.Agent)})
	}
	var doc struct {
		Slots *flexInt `json:"availableSlots"`
	}
	if err := s.getJSON(ctx, OpAvailableSlots, op, apiURL(as+"/chat/availableSlots", params...), &doc); err != nil {
		return 0, err
	}
	if doc.Slots == nil {
		return 0, protocolError(op, "availableSlots element missing", nil)
	}
	return int(*doc.Slots), nil
}
