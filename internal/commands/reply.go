package commands

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
)

// Reply is the answer to a command (schemas/commands/reply.json):
// {"ok": true, "result": {...}} or
// {"ok": false, "error": {"code": "chat_not_found", "message": "..."}}.
type Reply struct {
	OK     bool                 `json:"ok"`
	Result json.RawMessage      `json:"result,omitempty"`
	Error  *events.CommandError `json:"error,omitempty"`
}

// maxMessageBytes bounds an error message in replies, events and headers.
const maxMessageBytes = 1000

// okReply builds a successful reply; a nil result becomes {}.
func okReply(result json.RawMessage) Reply {
	if len(result) == 0 {
		result = json.RawMessage("{}")
	}
	return Reply{OK: true, Result: result}
}

// errorReply builds the reply of a failed command.
func errorReply(e *Error) Reply {
	return Reply{Error: &events.CommandError{Code: string(e.Code), Message: clip(e.Message)}}
}

// clip shortens s to maxMessageBytes on a rune boundary and puts it on one line.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxMessageBytes {
		s = strings.ToValidUTF8(s[:maxMessageBytes], "") + "..."
	}
	return s
}

// outcome is everything known after a command message was handled.
type outcome struct {
	cmd   Command
	reply Reply
	err   *Error // nil on success
	// final: the outcome will not change (success or a final code); it is
	// stored under the command id. Transient failures are not final.
	final bool
	// replayed: the reply is a stored result; the command did not run now.
	replayed bool
	// rejected: the command was refused before its id was claimed (it could
	// not be read, failed its schema, names no agent of this bridge), so
	// nothing is stored under the id.
	rejected bool
	// attempt is the run's number for the command id (1 for the first).
	attempt int
	// deadLetter: the message goes to the dead-letter subject.
	deadLetter bool
	// redeliver: the durable message goes back to JetStream, to be
	// delivered again after delay (a later try, or for the agent's owner);
	// nothing is published or dead-lettered for this delivery.
	redeliver bool
	delay     time.Duration
}

// failure returns the outcome of a command that failed with err.
func failure(cmd Command, err error, attempt int) outcome {
	e := asError(err)
	return outcome{cmd: cmd, reply: errorReply(e), err: e, final: !e.Code.Transient(), attempt: attempt,
		deadLetter: badInput(e.Code) && !e.fromService}
}

// badInput reports codes that mean the message itself is unusable: these go
// to the dead-letter subject in both modes (DESIGN §4.6). Business outcomes
// (chat_not_found, not_ringing, and a bad_request the service answered, e.g.
// a line to an ended chat) are answered and published, not dead-lettered.
func badInput(c Code) bool {
	switch c {
	case CodeBadRequest, CodeUnknownCommand, CodeUnknownAgent, CodeInternal:
		return true
	}
	return false
}
