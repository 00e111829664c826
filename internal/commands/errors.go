package commands

import (
	"errors"
	"fmt"
)

// Code is the error code of a failed command, as in its reply and its
// command.result event. The set is fixed and documented in
// schemas/commands/reply.json; clients switch on it.
type Code string

// The error codes. Transient ones (see Code.Transient) are worth retrying
// with the same command id; the others are final.
const (
	CodeBadRequest     Code = "bad_request"     // malformed, oversized or invalid body; an id reused for another command
	CodeUnknownCommand Code = "unknown_command" // no such command
	CodeUnknownAgent   Code = "unknown_agent"   // the bridge does not run this agent
	CodeChatNotFound   Code = "chat_not_found"  // the agent session does not hold this chat
	CodeNotRinging     Code = "not_ringing"     // chat.accept found no ringing chat
	CodeSessionLost    Code = "session_lost"    // the agent session is gone or not started yet (transient)
	CodeRateLimited    Code = "rate_limited"    // LivePerson or the bridge asked to slow down (transient)
	CodeUpstreamError  Code = "upstream_error"  // LivePerson failed: 5xx, network, bad document (transient)
	CodeTimeout        Code = "timeout"         // the command did not finish in time; a send may be checked and retried (transient)
	CodeInternal       Code = "internal"        // a bug in the bridge
)

// AllCodes returns every error code, in a fixed order.
func AllCodes() []Code {
	return []Code{
		CodeBadRequest, CodeUnknownCommand, CodeUnknownAgent, CodeChatNotFound, CodeNotRinging,
		CodeSessionLost, CodeRateLimited, CodeUpstreamError, CodeTimeout, CodeInternal,
	}
}

// Transient reports whether a command that failed with c may succeed when
// run again: durable commands with these codes are redelivered with backoff.
func (c Code) Transient() bool {
	switch c {
	case CodeSessionLost, CodeRateLimited, CodeUpstreamError, CodeTimeout:
		return true
	}
	return false
}

// Sentinels, one per code; every *Error unwraps to the one of its code.
var (
	ErrBadRequest     = errors.New("bad request")
	ErrUnknownCommand = errors.New("unknown command")
	ErrUnknownAgent   = errors.New("unknown agent")
	ErrChatNotFound   = errors.New("chat not found")
	ErrNotRinging     = errors.New("no chat is ringing")
	ErrSessionLost    = errors.New("agent session lost")
	ErrRateLimited    = errors.New("rate limited")
	ErrUpstream       = errors.New("upstream error")
	ErrTimeout        = errors.New("timeout")
	ErrInternal       = errors.New("internal error")

	// errSkipRaces means other replicas kept updating a skip count.
	errSkipRaces = errors.New("too many concurrent updates")

	// ErrInvalidConfig means New got an unusable Config.
	ErrInvalidConfig = errors.New("invalid config")
)

// sentinel returns the sentinel error of c.
func (c Code) sentinel() error {
	switch c {
	case CodeBadRequest:
		return ErrBadRequest
	case CodeUnknownCommand:
		return ErrUnknownCommand
	case CodeUnknownAgent:
		return ErrUnknownAgent
	case CodeChatNotFound:
		return ErrChatNotFound
	case CodeNotRinging:
		return ErrNotRinging
	case CodeSessionLost:
		return ErrSessionLost
	case CodeRateLimited:
		return ErrRateLimited
	case CodeUpstreamError:
		return ErrUpstream
	case CodeTimeout:
		return ErrTimeout
	}
	return ErrInternal
}

// Error is a failed command: the code and message of its reply. Message is
// meant for humans and never holds a secret (lpchat errors are redacted).
type Error struct {
	Code    Code
	Message string
	// Ambiguous marks a run whose HTTP call (chat.send, chat.close,
	// chat.accept) may have been carried out: a retry checks the chat first.
	Ambiguous bool
	// fromService marks an error the service answered (e.g. a 400 for a
	// line to an ended chat): an outcome, not unusable input.
	fromService bool
	cause       error
}

// Error renders "<code>: <message>".
func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Unwrap returns the sentinel of the code and the cause, if any.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Code.sentinel(), e.cause}
	}
	return []error{e.Code.sentinel()}
}

// failf builds an *Error with a formatted message.
func failf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fail wraps cause into an *Error with code, its message being cause's text.
func fail(code Code, cause error) *Error {
	return &Error{Code: code, Message: cause.Error(), cause: cause}
}

// asError returns err as an *Error, mapping anything else to internal.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return fail(CodeInternal, err)
}

// codeNames is AllCodes as strings, for the metrics' label set.
func codeNames() []string {
	names := make([]string, 0, len(AllCodes()))
	for _, c := range AllCodes() {
		names = append(names, string(c))
	}
	return names
}
