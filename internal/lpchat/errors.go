package lpchat

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors. Every error the client returns wraps one or more of these;
// compare with errors.Is. Details (status, Retry-After, internal code) are in
// an *APIError reachable with errors.As.
var (
	// ErrAuth means the service answered 401: bad credentials on login, or
	// on any other call the bearer / login session / agent session is gone.
	// Callers re-login and re-create the agent session (chat-agent-api.md §9).
	ErrAuth = errors.New("unauthorized")

	// ErrSessionLost means a call under an agent session found the session
	// (or the login behind it) gone: the one classification the poller's
	// tick, sync and resume share (chat-agent-api.md §9, §15.4). It comes
	// with the status's own sentinel, on
	//   - a 401 on any call under the agent session, chat calls included
	//     (the bearer or the session died: log in again);
	//   - any other 4xx but 429 (400, 403, 404, 410, ...) on a read of the
	//     agent session's own resources ({as}, availability, info,
	//     incomingRequests, chatSessions): a live session answers those
	//     reads, which take no input, so only a dropped session fails them.
	// A 4xx on a chat call is about that chat, and 5xx past the retry policy
	// says nothing about the session by itself (the poller counts them).
	// A 401 on login is ErrAuth without ErrSessionLost: bad credentials.
	ErrSessionLost = errors.New("agent session lost")

	// ErrNotFound means 404: unknown agent session, chat, visit, ...
	ErrNotFound = errors.New("not found")

	// ErrRateLimited means 429 persisted after RetryPolicy.Max429Retries
	// retries (or the server asked for a wait above RetryPolicy.MaxRetryAfter).
	ErrRateLimited = errors.New("rate limited")

	// ErrServer means a 5xx answer or a network failure (timeout, reset,
	// refused) persisted after the retries of RetryPolicy.ServerBackoff, or a
	// non-idempotent request failed ambiguously (see ErrAmbiguous).
	ErrServer = errors.New("server unavailable")

	// ErrAmbiguous marks a failure of a non-idempotent request (send line,
	// end chat, accept, transfer, start agent session) after the request may
	// have reached the service: it may have happened. Such requests are not
	// retried; check the chat before trying again. It comes together with
	// ErrServer, or with the context's error when the caller cancelled.
	ErrAmbiguous = errors.New("outcome unknown, the request may have been carried out")

	// ErrProtocol means a response that does not decode or lacks a required
	// element, or an unexpected status (1xx, 3xx).
	ErrProtocol = errors.New("protocol error")
	// ErrCertificate means the service's TLS certificate is not trusted
	// (unknown authority, wrong host, expired). Retrying cannot mend it:
	// the caller must trust the right CA (a TLS-inspecting proxy's, say).
	ErrCertificate = errors.New("TLS certificate not trusted")

	// ErrBlocked means 451 on login: the account or user is blocked by
	// LivePerson support; do not retry (§4.3, §9).
	ErrBlocked = errors.New("blocked")

	// ErrBadRequest means a 4xx other than 401, 404, 429 (and 451 on login),
	// or a request the client refused to send because it is invalid.
	ErrBadRequest = errors.New("bad request")

	// ErrNotRinging means accept found no chat to take: the service answered
	// 2xx without a chatLocation.
	ErrNotRinging = errors.New("no chat is ringing")

	// ErrInvalidConfig means New or Login got an invalid Config or Credentials.
	ErrInvalidConfig = errors.New("invalid config")
)

// APIError describes a failed call. It never holds a bearer, csrf, password
// or key: Message is the service's error message with any known secret
// replaced by "[REDACTED]". It unwraps to its sentinels and cause.
type APIError struct {
	Op           string        // operation, e.g. "send line"
	Method       string        // HTTP method actually sent (POST for PUT-by-override)
	Path         string        // URL path (no query, no host)
	Status       int           // HTTP status; 0 for a network failure
	RetryAfter   time.Duration // the server's Retry-After on 429/503, if any
	InternalCode int           // internalCode of the error body, if any
	Message      string        // the error body's message, redacted, if any
	Attempts     int           // requests made, retries included

	sentinels []error
	cause     error // network or context error, if any
}

// Error renders "lpchat: <op>: <status> <text>[: message]" or, for network
// failures, "lpchat: <op>: <method> <path>: <cause>".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("lpchat: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.Status == 0 {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
		if e.cause != nil {
			b.WriteString(e.cause.Error())
		} else {
			b.WriteString("request failed")
		}
	} else {
		fmt.Fprintf(&b, "%d %s", e.Status, strings.ToLower(http.StatusText(e.Status)))
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	for _, s := range e.sentinels {
		if errors.Is(s, ErrAmbiguous) {
			b.WriteString(" (outcome unknown: the request may have been carried out)")
		}
	}
	return b.String()
}

// Unwrap returns the sentinels (ErrNotFound, ErrServer, ...) and the cause.
func (e *APIError) Unwrap() []error {
	errs := make([]error, 0, len(e.sentinels)+1)
	errs = append(errs, e.sentinels...)
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// opError wraps err (a sentinel or a decode error) with the operation name.
func opError(op string, sentinel error, err error) error {
	if err == nil {
		return fmt.Errorf("lpchat: %s: %w", op, sentinel)
	}
	return fmt.Errorf("lpchat: %s: %w: %w", op, sentinel, err)
}

// protocolError reports a response document that does not decode or lacks
// a required element.
func protocolError(op, what string, err error) error {
	if err != nil {
		return fmt.Errorf("lpchat: %s: %s: %w: %w", op, what, ErrProtocol, err)
	}
	return fmt.Errorf("lpchat: %s: %s: %w", op, what, ErrProtocol)
}

// asAPIError returns the *APIError in err's chain, if any.
func asAPIError(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}
