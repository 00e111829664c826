package commands

import (
	"context"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// Read-only queries. Their results use camelCase names; chat.visitor
// answers with the same shape as the chat.info event (events.InfoData).

type skillResult struct {
	ID           string `json:"id"`
	Name         string `json:"name,omitempty"`
	OnlineAgents *int   `json:"onlineAgents,omitempty"`
}

type agentInfoResult struct {
	ID           string        `json:"id"`
	AgentName    string        `json:"agentName,omitempty"`
	DisplayName  string        `json:"displayName,omitempty"`
	LoginName    string        `json:"loginName,omitempty"`
	MaxChats     int           `json:"maxChats"`
	Availability string        `json:"availability,omitempty"`
	Skills       []skillResult `json:"skills"`
}

func agentInfo(ctx context.Context, r *run, _ noArgs) (any, error) {
	info, err := r.sess.Info(ctx)
	if err != nil {
		return nil, upstreamError(ctx, err, false)
	}
	res := agentInfoResult{
		ID: info.ID, AgentName: info.AgentName, DisplayName: info.DisplayName, LoginName: info.LoginName,
		MaxChats: info.MaxChats, Availability: string(info.Availability.Chat), Skills: []skillResult{},
	}
	for _, s := range info.Skills {
		res.Skills = append(res.Skills, skillResult{ID: s.ID, Name: s.Name})
	}
	return res, nil
}

type availableAgentResult struct {
	ID             string   `json:"id"`
	UserName       string   `json:"userName,omitempty"`
	Nickname       string   `json:"nickname,omitempty"`
	Email          string   `json:"email,omitempty"`
	PrivilegeGroup string   `json:"privilegeGroup,omitempty"`
	ChatState      string   `json:"chatState,omitempty"`
	VoiceState     string   `json:"voiceState,omitempty"`
	MaxChats       int      `json:"maxChats"`
	Chats          int      `json:"chats"`
	SkillIDs       []string `json:"skillIds,omitempty"`
}

func availableAgents(ctx context.Context, r *run, a availableAgentsArgs) (any, error) {
	agents, err := r.sess.AvailableAgents(ctx, lpchat.AgentFilter{
		Skill: a.Skill, ChatState: lpchat.Availability(a.ChatState),
		VoiceState: lpchat.Availability(a.VoiceState), ChatReasonID: string(a.ChatReasonID),
	})
	if err != nil {
		return nil, upstreamError(ctx, err, false)
	}
	res := struct {
		Agents []availableAgentResult `json:"agents"`
	}{Agents: []availableAgentResult{}}
	for _, ag := range agents {
		res.Agents = append(res.Agents, availableAgentResult{
			ID: ag.ID, UserName: ag.UserName, Nickname: ag.Nickname, Email: ag.Email,
			PrivilegeGroup: ag.PrivilegeGroup, ChatState: string(ag.ChatState), VoiceState: string(ag.VoiceState),
			MaxChats: ag.MaxChats, Chats: ag.Chats, SkillIDs: ag.SkillIDs,
		})
	}
	return res, nil
}

func availableSlots(ctx context.Context, r *run, a availableSlotsArgs) (any, error) {
	n, err := r.sess.AvailableSlots(ctx, lpchat.SlotQuery{
		Skill: a.Skill, MaxWaitTime: time.Duration(a.MaxWaitTime) * time.Second, Agent: a.Agent,
	})
	if err != nil {
		return nil, upstreamError(ctx, err, false)
	}
	return struct {
		Slots int `json:"slots"` // -1 = unlimited
	}{n}, nil
}

func transferSkills(ctx context.Context, r *run, a chatArgs) (any, error) {
	skills, err := r.sess.TransferSkills(ctx, a.ChatID)
	if err != nil {
		return nil, upstreamError(ctx, err, true)
	}
	res := struct {
		Skills []skillResult `json:"skills"`
	}{Skills: []skillResult{}}
	for _, s := range skills {
		online := s.OnlineAgents
		res.Skills = append(res.Skills, skillResult{ID: s.ID, Name: s.Name, OnlineAgents: &online})
	}
	return res, nil
}

type chatInfoResult struct {
	ChatID        string    `json:"chatId"`
	State         string    `json:"state,omitempty"`
	AgentName     string    `json:"agentName,omitempty"`
	AgentID       string    `json:"agentId,omitempty"`
	StartTime     time.Time `json:"startTime,omitzero"`
	LastUpdate    time.Time `json:"lastUpdate,omitzero"`
	ChatTimeout   int       `json:"chatTimeout,omitempty"`
	VisitorID     string    `json:"visitorId,omitempty"`
	VisitorName   string    `json:"visitorName,omitempty"`
	AgentTyping   string    `json:"agentTyping,omitempty"`
	VisitorTyping string    `json:"visitorTyping,omitempty"`
	RTSessionID   string    `json:"rtSessionId,omitempty"`
	ParticipantID string    `json:"participantId,omitempty"`
	EngagementID  string    `json:"engagementId,omitempty"`
	CampaignID    string    `json:"campaignId,omitempty"`
	Language      string    `json:"language,omitempty"`
	SkillID       string    `json:"skillId,omitempty"`
	SkillName     string    `json:"skillName,omitempty"`
}

func chatInfo(ctx context.Context, r *run, a chatArgs) (any, error) {
	in, err := r.sess.ChatInfo(ctx, a.ChatID)
	if err != nil {
		return nil, upstreamError(ctx, err, true)
	}
	return chatInfoResult{
		ChatID: a.ChatID, State: in.State, AgentName: in.AgentName, AgentID: in.AgentID,
		StartTime: in.StartTime, LastUpdate: in.LastUpdate, ChatTimeout: in.ChatTimeout,
		VisitorID: in.VisitorID, VisitorName: in.VisitorName, AgentTyping: in.AgentTyping,
		VisitorTyping: in.VisitorTyping, RTSessionID: in.RTSessionID, ParticipantID: in.ParticipantID,
		EngagementID: in.EngagementID, CampaignID: in.CampaignID, Language: in.Language,
		SkillID: in.SkillID, SkillName: in.SkillName,
	}, nil
}

// chatVisitor gathers what is known of the chat's visitor: the chat info,
// and the visit (device, OS, browser, IP, pre-chat survey) with its custom
// variables when the chat links one. The visit is optional: its body is
// undocumented (chat-agent-api.md §5.22), so a visit that cannot be read
// leaves those fields empty rather than failing the query.
func chatVisitor(ctx context.Context, r *run, a chatArgs) (any, error) {
	chat, err := r.sess.Chat(ctx, a.ChatID)
	if err != nil {
		return nil, upstreamError(ctx, err, true)
	}
	var res events.InfoData
	if chat.Info != nil {
		res.VisitorName, res.VisitorID, res.Language = chat.Info.VisitorName, chat.Info.VisitorID, chat.Info.Language
		res.SkillID, res.SkillName, res.StartTime = chat.Info.SkillID, chat.Info.SkillName, chat.Info.StartTime
	}
	if chat.VisitID == "" {
		return res, nil
	}
	if v, err := r.sess.Visit(ctx, chat.VisitID); err == nil {
		res.Device, res.OS, res.Browser, res.IP = v.Device, v.OS, v.Browser, v.IP
		for _, q := range v.PreChatSurvey {
			res.PreChatSurvey = append(res.PreChatSurvey, events.SurveyAnswer{QuestionID: q.QuestionID, Label: q.Label, Value: q.Value})
		}
	} else if ctx.Err() != nil {
		return nil, upstreamError(ctx, err, true)
	}
	if vars, err := r.sess.CustomVariables(ctx, chat.VisitID); err == nil && len(vars) > 0 {
		res.CustomVariables = make(map[string]string, len(vars))
		for _, v := range vars {
			res.CustomVariables[v.Name] = v.Value
		}
	} else if ctx.Err() != nil {
		return nil, upstreamError(ctx, err, true)
	}
	return res, nil
}
