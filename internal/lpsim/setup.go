package lpsim

import (
	"fmt"
	"slices"
)

// AgentSpec describes an agent (a user of the account). A password (user
// login), an OAuth2 app (ClientID and ClientSecret: application login with
// "dummy" tokens) or all four OAuth1 API-key values (application login and
// OAuth-signed requests) are needed; any of them may be set together.
type AgentSpec struct {
	LoginName         string   `json:"loginName"`
	Password          string   `json:"password,omitempty"`
	ClientID          string   `json:"clientId,omitempty"`     // OAuth2 app: sent as appKey
	ClientSecret      string   `json:"clientSecret,omitempty"` // OAuth2 app: sent as secret
	AppKey            string   `json:"appKey,omitempty"`
	Secret            string   `json:"secret,omitempty"`
	AccessToken       string   `json:"accessToken,omitempty"`
	AccessTokenSecret string   `json:"accessTokenSecret,omitempty"`
	Nickname          string   `json:"nickname,omitempty"` // shown to visitors [LoginName]
	MaxChats          int      `json:"maxChats,omitempty"` // concurrent chats; 0 → -1 unlimited
	SkillIDs          []string `json:"skillIds,omitempty"` // skills that must exist already
	ID                string   `json:"id,omitempty"`       // numeric string, generated if empty
	Email             string   `json:"email,omitempty"`    // for availableAgents [LoginName@lpsim.invalid]
}

// SkillSpec describes a skill: its numeric id (generated if empty) and its
// name (required; availableAgents and availableSlots filter by name).
type SkillSpec struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// AddAccount creates an empty account.
func (s *Simulator) AddAccount(accountID string) error {
	if accountID == "" {
		return fmt.Errorf("add account: empty id: %w", ErrInvalidSpec)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[accountID] != nil {
		return fmt.Errorf("add account %s: %w", accountID, ErrAccountExists)
	}
	s.accounts[accountID] = newAccount(accountID)
	return nil
}

// account returns the account or ErrUnknownAccount; s.mu is held.
func (s *Simulator) account(accountID string) (*account, error) {
	a := s.accounts[accountID]
	if a == nil {
		return nil, fmt.Errorf("account %s: %w", accountID, ErrUnknownAccount)
	}
	return a, nil
}

// AddSkill adds a skill to an account.
func (s *Simulator) AddSkill(accountID string, sk SkillSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(accountID)
	if err != nil {
		return fmt.Errorf("add skill: %w", err)
	}
	switch {
	case sk.Name == "":
		return fmt.Errorf("add skill: empty name: %w", ErrInvalidSpec)
	case sk.ID != "" && !isNumeric(sk.ID):
		return fmt.Errorf("add skill %q: id %q is not numeric: %w", sk.Name, sk.ID, ErrInvalidSpec)
	case a.skillByName(sk.Name) != nil || (sk.ID != "" && a.skillByID(sk.ID) != nil):
		return fmt.Errorf("add skill %q: %w", sk.Name, ErrSkillExists)
	}
	id := sk.ID
	for id == "" || a.skillByID(id) != nil {
		id = digits(s.ids.setup, 8)
	}
	a.skills = append(a.skills, &skill{id: id, name: sk.Name})
	return nil
}

// AddAgent adds an agent to an account; it is Offline until it starts an
// agent session.
func (s *Simulator) AddAgent(accountID string, spec AgentSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(accountID)
	if err != nil {
		return fmt.Errorf("add agent: %w", err)
	}
	if err := validateAgent(a, spec); err != nil {
		return fmt.Errorf("add agent %q: %w", spec.LoginName, err)
	}
	ag := &agent{
		spec: spec, login: spec.LoginName, id: spec.ID, nickname: spec.Nickname,
		maxChats: spec.MaxChats, skills: slices.Clone(spec.SkillIDs), availability: availAway,
	}
	if ag.nickname == "" {
		ag.nickname = spec.LoginName
	}
	if ag.maxChats == 0 {
		ag.maxChats = -1
	}
	for ag.id == "" || a.agentByID(ag.id) != nil {
		ag.id = digits(s.ids.setup, 8)
	}
	a.agents = append(a.agents, ag)
	a.byLogin[ag.login] = ag
	a.byID[ag.id] = ag
	if spec.AppKey != "" {
		a.byAppKey[spec.AppKey] = ag
	}
	if spec.ClientID != "" {
		a.clientIDs[spec.ClientID] = true
	}
	a.agentChanged()
	return nil
}

func validateAgent(a *account, sp AgentSpec) error {
	hasKey := sp.AppKey != "" || sp.Secret != "" || sp.AccessToken != "" || sp.AccessTokenSecret != ""
	fullKey := sp.AppKey != "" && sp.Secret != "" && sp.AccessToken != "" && sp.AccessTokenSecret != ""
	switch {
	case sp.LoginName == "":
		return fmt.Errorf("empty login name: %w", ErrInvalidSpec)
	case sp.Password == "" && !hasKey && sp.ClientID == "" && sp.ClientSecret == "":
		return fmt.Errorf("needs a password, an OAuth2 app or an API key: %w", ErrInvalidSpec)
	case hasKey && !fullKey:
		return fmt.Errorf("an API key needs appKey, secret, accessToken and accessTokenSecret: %w", ErrInvalidSpec)
	case sp.MaxChats < -1:
		return fmt.Errorf("maxChats %d: %w", sp.MaxChats, ErrInvalidSpec)
	case sp.ID != "" && !isNumeric(sp.ID):
		return fmt.Errorf("id %q is not numeric: %w", sp.ID, ErrInvalidSpec)
	case a.agentByLogin(sp.LoginName) != nil || (sp.ID != "" && a.agentByID(sp.ID) != nil):
		return ErrAgentExists
	}
	if sp.AppKey != "" && a.byAppKey[sp.AppKey] != nil {
		return fmt.Errorf("app key already used: %w", ErrAgentExists)
	}
	if err := validateOAuth2(a, sp); err != nil {
		return err
	}
	for _, id := range sp.SkillIDs {
		if a.skillByID(id) == nil {
			return fmt.Errorf("skill %q: %w", id, ErrUnknownSkill)
		}
	}
	return nil
}
