package lpsim

import "errors"

// Errors of the Go API; compare with errors.Is.
var (
	// ErrNegativeDuration: a Config duration is below zero.
	ErrNegativeDuration = errors.New("duration must not be negative")
	// ErrUnknownAccount: no account with that id was added.
	ErrUnknownAccount = errors.New("unknown account")
	// ErrAccountExists: AddAccount was called twice with one id.
	ErrAccountExists = errors.New("account already exists")
	// ErrUnknownSkill: the account has no skill with that id (or name).
	ErrUnknownSkill = errors.New("unknown skill")
	// ErrSkillExists: the account already has a skill with that id or name.
	ErrSkillExists = errors.New("skill already exists")
	// ErrUnknownAgent: the account has no agent with that login name.
	ErrUnknownAgent = errors.New("unknown agent")
	// ErrAgentExists: the account already has an agent with that login name,
	// id or app key.
	ErrAgentExists = errors.New("agent already exists")
	// ErrInvalidSpec: an AgentSpec, SkillSpec or VisitorSpec is malformed.
	ErrInvalidSpec = errors.New("invalid spec")
	// ErrUnknownChat: the account has no chat with that id.
	ErrUnknownChat = errors.New("unknown chat")
	// ErrChatEnded: the chat has ended; nothing more can be added to it.
	ErrChatEnded = errors.New("chat has ended")

	// errBadControlBody: a control API request body is not valid JSON.
	errBadControlBody = errors.New("malformed control request body")
)
