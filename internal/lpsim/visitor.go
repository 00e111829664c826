package lpsim

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// VisitorSpec describes a visitor who asks for a chat.
type VisitorSpec struct {
	Name            string                `json:"name,omitempty"`    // visitorName [visitor]
	SkillID         string                `json:"skillId,omitempty"` // route to agents with this skill; "" = any agent
	Survey          []SurveyAnswer        `json:"survey,omitempty"`  // pre-chat survey answers
	Device          string                `json:"device,omitempty"`
	OS              string                `json:"os,omitempty"`
	Browser         string                `json:"browser,omitempty"`
	IP              string                `json:"ip,omitempty"`
	CustomVariables map[string]string     `json:"customVariables,omitempty"`
	Authenticated   *AuthenticatedVisitor `json:"authenticated,omitempty"` // SSO visitor: chat info gets participantId
}

// SurveyAnswer is one answered pre-chat survey question.
type SurveyAnswer struct {
	QuestionID string `json:"questionId"`
	Label      string `json:"label"`
	Value      string `json:"value"`
}

// AuthenticatedVisitor is what participantExtendedInfo (§5.21) returns for
// an SSO-authenticated visitor.
type AuthenticatedVisitor struct {
	ParticipantID    string  `json:"participantId,omitempty"` // GUID, generated if empty
	CustomerID       string  `json:"customerId,omitempty"`
	CustomerStatus   string  `json:"customerStatus,omitempty"`
	CustomerType     string  `json:"customerType,omitempty"`
	Balance          float64 `json:"balance,omitempty"`
	RegistrationDate string  `json:"registrationDate,omitempty"` // 2006-01-02
	Name             string  `json:"name,omitempty"`
	Surname          string  `json:"surname,omitempty"`
	Email            string  `json:"email,omitempty"`
	Phone            string  `json:"phone,omitempty"`
}

// EventView is one chat event as tests read it; JSON is the event exactly
// as the API renders it.
type EventView struct {
	ID              int             `json:"id"`
	Type            string          `json:"type"`
	Time            string          `json:"time"` // RFC 3339 with milliseconds
	Text            string          `json:"text,omitempty"`
	TextType        string          `json:"textType,omitempty"`
	By              string          `json:"by,omitempty"`
	Source          string          `json:"source,omitempty"`
	SubType         string          `json:"subType,omitempty"`
	State           string          `json:"state,omitempty"`
	SystemMessageID int             `json:"systemMessageId,omitempty"`
	JSON            json.RawMessage `json:"json"`
}

// locked runs f on the account under the lock, after sweeping deadlines.
func (s *Simulator) locked(accountID string, f func(a *account, now time.Time) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	s.sweep(now)
	a, err := s.account(accountID)
	if err != nil {
		return err
	}
	return f(a, now)
}

// openChat returns a chat of a; s.mu is held.
func openChat(a *account, chatID string, mustLive bool) (*chat, error) {
	c := a.chats[chatID]
	switch {
	case c == nil:
		return nil, fmt.Errorf("chat %s: %w", chatID, ErrUnknownChat)
	case mustLive && c.state == stateEnded:
		return nil, fmt.Errorf("chat %s: %w", chatID, ErrChatEnded)
	}
	return c, nil
}

// StartChat opens a chat for a visitor: events 0 state waiting and 1 system
// line #4; it rings at an Online agent with capacity (and the skill).
func (s *Simulator) StartChat(accountID string, v VisitorSpec) (chatID string, err error) {
	err = s.locked(accountID, func(a *account, now time.Time) error {
		if v.SkillID != "" && a.skillByID(v.SkillID) == nil {
			return fmt.Errorf("skill %s: %w", v.SkillID, ErrUnknownSkill)
		}
		c := s.newChat(a, v, now)
		chatID = c.id
		s.route(a, now)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("start chat: %w", err)
	}
	return chatID, nil
}

// newChat creates and registers a waiting chat; s.mu is held.
func (s *Simulator) newChat(a *account, v VisitorSpec, now time.Time) *chat {
	r := s.ids.chats
	id, visitID := chatID(r)
	for a.chats[id] != nil {
		id, visitID = chatID(r)
	}
	if v.Name == "" {
		v.Name = "visitor"
	}
	v.Survey = slices.Clone(v.Survey)
	v.CustomVariables = maps.Clone(v.CustomVariables)
	c := &chat{
		id: id, visitID: visitID, acct: a, seq: a.chatSeq, visitor: v, skillID: v.SkillID,
		agentTyping: typingOff, visitorTyping: typingOff, start: now, lastUpdate: now,
		visitorID: number(r, 15), rtSessionID: number(r, 10),
		sharkVisitor: hexDigits(r, 22), sharkSession: hexDigits(r, 22),
		engagementID: number(r, 9), campaignID: number(r, 9),
		changed: make(chan struct{}),
	}
	if au := v.Authenticated; au != nil {
		cp := *au
		if cp.ParticipantID == "" {
			cp.ParticipantID = guid(r)
		}
		c.visitor.Authenticated = &cp
		c.participantID = cp.ParticipantID
	}
	a.chatSeq++
	c.addState(now, stateWaiting)
	c.addSystemLine(now, sysRouting, textRouting)
	a.chats[id] = c
	a.visits[visitID] = c
	a.open = append(a.open, c)
	s.log.Debug("lpsim: chat started", "account", a.id, "chat", id)
	return c
}

// VisitorLine adds a visitor line and returns its event id.
func (s *Simulator) VisitorLine(accountID, chatID, text string) (eventID int, err error) {
	err = s.locked(accountID, func(a *account, now time.Time) error {
		if text == "" {
			return fmt.Errorf("empty line: %w", ErrInvalidSpec)
		}
		c, err := openChat(a, chatID, true)
		if err != nil {
			return err
		}
		eventID = c.appendEvent(now, event{typ: "line", text: text, textType: "plain",
			by: "visitor", source: "visitor", subType: "REGULAR"})
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("visitor line: %w", err)
	}
	return eventID, nil
}

// VisitorTyping sets the visitor's typing state (chat info only, no event).
func (s *Simulator) VisitorTyping(accountID, chatID string, typing bool) error {
	err := s.locked(accountID, func(a *account, now time.Time) error {
		c, err := openChat(a, chatID, true)
		if err != nil {
			return err
		}
		c.visitorTyping = typingOff
		if typing {
			c.visitorTyping = typingOn
		}
		c.lastUpdate = now
		return nil
	})
	if err != nil {
		return fmt.Errorf("visitor typing: %w", err)
	}
	return nil
}

// VisitorEnd ends the chat from the visitor's side: system line #6 "The
// visitor has left the chat", then state ended.
func (s *Simulator) VisitorEnd(accountID, chatID string) error {
	err := s.locked(accountID, func(a *account, now time.Time) error {
		c, err := openChat(a, chatID, true)
		if err != nil {
			return err
		}
		c.addSystemLine(now, sysVisitorLeft, textVisitorLeft)
		c.addState(now, stateEnded)
		s.closeChat(a, c, now)
		return nil
	})
	if err != nil {
		return fmt.Errorf("visitor end: %w", err)
	}
	return nil
}

// ChatEvents returns every event of the chat so far.
func (s *Simulator) ChatEvents(accountID, chatID string) ([]EventView, error) {
	var out []EventView
	err := s.locked(accountID, func(a *account, _ time.Time) error {
		c, err := openChat(a, chatID, false)
		if err != nil {
			return err
		}
		out = make([]EventView, 0, len(c.events))
		for _, e := range c.events {
			raw, err := json.Marshal(e.doc())
			if err != nil {
				return fmt.Errorf("encode event %d: %w", e.id, err)
			}
			out = append(out, EventView{
				ID: e.id, Type: e.typ, Time: isoTime(e.at), Text: e.text, TextType: e.textType,
				By: e.by, Source: e.source, SubType: e.subType, State: e.state,
				SystemMessageID: e.systemMessageID, JSON: raw,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chat events: %w", err)
	}
	return out, nil
}

// ChatState returns the chat's state and the login name of its agent: the
// one chatting, the last one when ended, "" while waiting.
func (s *Simulator) ChatState(accountID, chatID string) (state, agentLoginName string, err error) {
	err = s.locked(accountID, func(a *account, _ time.Time) error {
		c, err := openChat(a, chatID, false)
		if err != nil {
			return err
		}
		state = c.state
		if c.holder != nil {
			agentLoginName = c.holder.login
		}
		return nil
	})
	if err != nil {
		return "", "", fmt.Errorf("chat state: %w", err)
	}
	return state, agentLoginName, nil
}

// AgentAvailability returns Online, Away or Occupied, or Offline while the
// agent has no live agent session.
func (s *Simulator) AgentAvailability(accountID, loginName string) (string, error) {
	var state string
	err := s.locked(accountID, func(a *account, _ time.Time) error {
		ag := a.agentByLogin(loginName)
		if ag == nil {
			return fmt.Errorf("agent %q: %w", loginName, ErrUnknownAgent)
		}
		state = ag.state()
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("agent availability: %w", err)
	}
	return state, nil
}
