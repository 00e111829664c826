package commands

import (
	"context"
	"errors"
	"net/http"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// upstreamError maps an lpchat error to the command error codes. A 404 on
// a chat call means the chat is not held by this agent session; on an
// agent-level call it means the agent session itself is gone.
func upstreamError(ctx context.Context, err error, chatScoped bool) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	ambiguous := errors.Is(err, lpchat.ErrAmbiguous)
	out := func(code Code) *Error {
		return &Error{Code: code, Message: err.Error(), Ambiguous: ambiguous, fromService: true, cause: err}
	}
	switch {
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		return out(CodeTimeout)
	case ambiguous && status(err) >= 500:
		return out(CodeUpstreamError) // the service failed, perhaps after acting
	case ambiguous:
		return out(CodeTimeout)
	case errors.Is(err, lpchat.ErrSessionLost), errors.Is(err, lpchat.ErrAuth):
		// Before the status checks: lpchat says the agent session is gone
		// on any refusal of an agent-level read (a 403 or 410 too).
		return out(CodeSessionLost)
	case errors.Is(err, lpchat.ErrNotFound):
		if chatScoped {
			return out(CodeChatNotFound)
		}
		return out(CodeSessionLost)
	case chatScoped && status(err) == http.StatusForbidden:
		// The chat is readable but no longer this agent's (transferred, requeued).
		return out(CodeChatNotFound)
	case errors.Is(err, lpchat.ErrNotRinging):
		return out(CodeNotRinging)
	case errors.Is(err, lpchat.ErrRateLimited):
		return out(CodeRateLimited)
	case errors.Is(err, lpchat.ErrServer), errors.Is(err, lpchat.ErrProtocol):
		return out(CodeUpstreamError)
	case errors.Is(err, lpchat.ErrBadRequest):
		return out(CodeBadRequest)
	case errors.Is(err, context.Canceled):
		return out(CodeTimeout)
	}
	return out(CodeInternal)
}

// settled reports an ambiguous failure that a look at the chat settles:
// the service answered (a 5xx), so it is done with the request, and what
// the chat shows now is what it did. Only a gateway timeout (504), like a
// timeout of our own, may leave the request still running there.
func settled(err error) bool {
	s := status(err)
	return s >= 500 && s != http.StatusGatewayTimeout
}

// status is the HTTP status of an lpchat error, 0 when there is none.
func status(err error) int {
	var ae *lpchat.APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}
