package commands

import (
	"slices"
	"strings"
)

// Command names (the last tokens of a command subject).
const (
	ChatAccept          = "chat.accept"
	ChatSend            = "chat.send"
	ChatTyping          = "chat.typing"
	ChatClose           = "chat.close"
	ChatTransfer        = "chat.transfer"
	AgentStatus         = "agent.status"
	AgentInfo           = "agent.info"
	AgentAvailable      = "agent.available-agents"
	AgentAvailableSlots = "agent.available-slots"
	ChatTransferSkills  = "chat.transfer-skills"
	ChatInfo            = "chat.info"
	ChatVisitor         = "chat.visitor"
)

// Names returns every command the consumer runs, in a fixed order.
func Names() []string {
	return []string{
		ChatAccept, ChatSend, ChatTyping, ChatClose, ChatTransfer, AgentStatus,
		AgentInfo, AgentAvailable, AgentAvailableSlots, ChatTransferSkills, ChatInfo, ChatVisitor,
	}
}

// Known reports whether name is a command the consumer runs.
func Known(name string) bool { return slices.Contains(Names(), name) }

// Command is one decoded command message.
type Command struct {
	// ID identifies the command for deduplication: the body's "id", else the
	// Nats-Msg-Id header, else the CloudEvent id. "" when none was given.
	ID string
	// IDSource says where ID came from: "body", "header", "cloudevent" or "".
	IDSource string
	// Name is the command, e.g. "chat.send".
	Name string
	// Account and Agent are the subject's account and agent tokens.
	Account, Agent string
	// Durable is true for commands of the durable stream (<prefix>.dcmd.>).
	Durable bool
	// Body is the command's JSON object without its "id" member ("{}" when
	// the message had no body).
	Body []byte
	// CloudEvent is true when the message was a CloudEvent (either mode).
	CloudEvent bool
	// TraceParent is the W3C traceparent of a CloudEvent or header, if any.
	TraceParent string
}

// Subject kinds: request-reply commands and stream-captured ones are kept
// on different subjects, because a stream that captures a request subject
// answers the requester itself (with a PubAck) before the bridge can.
const (
	kindRequest = "cmd"
	kindDurable = "dcmd"
	kindDLQ     = "dlq"
)

// RequestSubject is the request-reply subject of a command:
// <prefix>.cmd.<account>.<agent>.<command>.
func RequestSubject(prefix, account, agent, command string) string {
	return strings.Join([]string{prefix, kindRequest, account, agent, command}, ".")
}

// DurableSubject is the stream-captured subject of a command:
// <prefix>.dcmd.<account>.<agent>.<command>.
func DurableSubject(prefix, account, agent, command string) string {
	return strings.Join([]string{prefix, kindDurable, account, agent, command}, ".")
}

// DeadLetterSubject is where a command that cannot be run ends:
// <prefix>.dlq.<account>.<agent>.<command>; an agent or command that cannot
// be read from the original subject is "unknown".
func DeadLetterSubject(prefix, account, agent, command string) string {
	if agent == "" {
		agent = unknownToken
	}
	if command == "" {
		command = unknownToken
	}
	return strings.Join([]string{prefix, kindDLQ, account, agent, command}, ".")
}

// unknownToken stands for a missing subject token in dead-letter subjects.
const unknownToken = "unknown"

// parseSubject splits <prefix>.<kind>.<account>.<agent>.<command...>. It
// fills what it can read even when it fails, for the dead letter.
func parseSubject(subject, prefix, account string) (kind, agent, name string, err error) {
	rest, ok := strings.CutPrefix(subject, prefix+".")
	if !ok {
		return "", "", "", failf(CodeBadRequest, "subject %q does not start with %q", subject, prefix+".")
	}
	kind, rest, _ = strings.Cut(rest, ".")
	if kind != kindRequest && kind != kindDurable {
		return kind, "", "", failf(CodeBadRequest, "subject %q is not a command subject", subject)
	}
	acct, rest, _ := strings.Cut(rest, ".")
	if acct != account {
		return kind, "", "", failf(CodeBadRequest, "subject %q is not for account %s", subject, account)
	}
	agent, name, _ = strings.Cut(rest, ".")
	if agent == "" {
		return kind, "", "", failf(CodeBadRequest, "subject %q names no agent", subject)
	}
	if name == "" {
		return kind, agent, "", failf(CodeUnknownCommand, "subject %q names no command", subject)
	}
	if !Known(name) {
		return kind, agent, name, failf(CodeUnknownCommand, "unknown command %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return kind, agent, name, nil
}
