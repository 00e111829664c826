package commands

import "strings"

// Every command subject the package builds or reads goes through subjects:
// <prefix>.<kind>.<account>.<agent>.<command>, the command being the rest
// (it holds a dot itself, as in chat.send).

// Subject kinds: request-reply commands and stream-captured ones are kept
// on different subjects, because a stream that captures a request subject
// answers the requester itself (with a PubAck) before the bridge can.
const (
	kindRequest = "cmd"
	kindDurable = "dcmd"
	kindDLQ     = "dlq"
)

// unknownToken stands for a missing subject token in dead-letter subjects,
// result events and span names.
const unknownToken = "unknown"

// subjects is the subject grammar of one account's commands.
type subjects struct{ prefix, account string }

// subject is <prefix>.<kind>.<account>.<agent>.<command>.
func (s subjects) subject(kind, agent, command string) string {
	return strings.Join([]string{s.prefix, kind, s.account, agent, command}, ".")
}

// deadLetter is the dead-letter subject of a command; an agent or command
// that could not be read is "unknown".
func (s subjects) deadLetter(agent, command string) string {
	if agent == "" {
		agent = unknownToken
	}
	if command == "" {
		command = unknownToken
	}
	return s.subject(kindDLQ, agent, command)
}

// wildcard matches the account's commands of kind for agent ("" = every
// agent): <prefix>.<kind>.<account>[.<agent>].>.
func (s subjects) wildcard(kind, agent string) string {
	parts := []string{s.prefix, kind, s.account}
	if agent != "" {
		parts = append(parts, agent)
	}
	return strings.Join(append(parts, ">"), ".")
}

// everyAccount matches the subjects of kind of every account, <prefix>.<kind>.>:
// the command and dead-letter streams are shared by the bridges of all accounts.
func (s subjects) everyAccount(kind string) string {
	return strings.Join([]string{s.prefix, kind, ">"}, ".")
}

// split reads the agent and command tokens of a subject of kind; ok is
// false when the subject is not one of the account's of that kind. Either
// token may be empty.
func (s subjects) split(kind, subject string) (agent, command string, ok bool) {
	rest, ok := strings.CutPrefix(subject, s.prefix+"."+kind+".")
	account, rest, _ := strings.Cut(rest, ".")
	if !ok || account != s.account {
		return "", "", false
	}
	agent, command, _ = strings.Cut(rest, ".")
	return agent, command, true
}

// parse reads a command subject of either kind and checks that it names
// the account, an agent and a known command. It fills what it can read even
// when it fails, for the dead letter.
func (s subjects) parse(subject string) (kind, agent, name string, err error) {
	rest, ok := strings.CutPrefix(subject, s.prefix+".")
	if !ok {
		return "", "", "", failf(CodeBadRequest, "subject %q does not start with %q", subject, s.prefix+".")
	}
	kind, _, _ = strings.Cut(rest, ".")
	if kind != kindRequest && kind != kindDurable {
		return kind, "", "", failf(CodeBadRequest, "subject %q is not a command subject", subject)
	}
	agent, name, ok = s.split(kind, subject)
	switch {
	case !ok:
		return kind, "", "", failf(CodeBadRequest, "subject %q is not for account %s", subject, s.account)
	case agent == "":
		return kind, "", "", failf(CodeBadRequest, "subject %q names no agent", subject)
	case name == "":
		return kind, agent, "", failf(CodeUnknownCommand, "subject %q names no command", subject)
	case !Known(name):
		return kind, agent, name, failf(CodeUnknownCommand, "unknown command %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return kind, agent, name, nil
}

// RequestSubject is the request-reply subject of a command:
// <prefix>.cmd.<account>.<agent>.<command>.
func RequestSubject(prefix, account, agent, command string) string {
	return subjects{prefix, account}.subject(kindRequest, agent, command)
}

// DurableSubject is the stream-captured subject of a command:
// <prefix>.dcmd.<account>.<agent>.<command>.
func DurableSubject(prefix, account, agent, command string) string {
	return subjects{prefix, account}.subject(kindDurable, agent, command)
}

// DeadLetterSubject is where a command that cannot be run ends:
// <prefix>.dlq.<account>.<agent>.<command>; an agent or command that cannot
// be read from the original subject is "unknown".
func DeadLetterSubject(prefix, account, agent, command string) string {
	return subjects{prefix, account}.deadLetter(agent, command)
}
