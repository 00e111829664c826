package lpchat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"time"
)

// The "once" calls of §5 (send a line, accept, end, transfer) are not
// retried by the client once they may have reached the service: a timeout,
// a dropped answer or a 5xx (a gateway's 502/504 may come after the service
// acted) is ErrAmbiguous. The checks below tell from the service's own
// documents whether such a call took effect, so that a caller retries only
// what did not happen. Each returns an error when it cannot tell.

// maxEventPages bounds the pages read while looking through a chat's events.
const maxEventPages = 1000

// VerifyTimeout bounds a check made after the caller's context ended (the
// call that timed out used it up): the check must still run to say whether
// the call took effect. Callers that bound a whole operation add it.
const VerifyTimeout = 10 * time.Second

// checkContext is ctx, or a fresh context of VerifyTimeout when ctx is done.
func checkContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), VerifyTimeout)
}

// eachEvent calls f for every event of the chat, oldest first (§5.13).
func (s *AgentSession) eachEvent(ctx context.Context, chatID string, f func(Event)) error {
	from := 0
	for range maxEventPages {
		evs, next, err := s.ChatEvents(ctx, chatID, from)
		if err != nil {
			return err
		}
		for _, e := range evs {
			f(e)
		}
		if len(evs) == 0 || next <= from {
			return nil
		}
		from = next
	}
	return nil
}

// FindLine looks through the chat's events for the newest agent line equal
// to l that is not older than since, and returns its event id: how a
// SendLine that failed with ErrAmbiguous is checked before it is sent again.
// A line without a time is taken to match: doubling a line is worse than
// reporting one that was sent already.
func (s *AgentSession) FindLine(ctx context.Context, chatID string, l Line, since time.Time) (id int, found bool, err error) {
	ctx, cancel := checkContext(ctx) // the send that timed out may have used ctx up
	defer cancel()
	err = s.eachEvent(ctx, chatID, func(e Event) {
		if sameLine(e, l, since) {
			found, id = true, e.ID
		}
	})
	if err != nil {
		return 0, false, err
	}
	return id, found, nil
}

// sameLine reports whether e is the line l, posted by the agent at or after
// since.
func sameLine(e Event, l Line, since time.Time) bool {
	if e.Type != EventLine || e.Source != SourceAgent || e.Text != l.Text {
		return false
	}
	if !e.Time.IsZero() && e.Time.Before(since) {
		return false
	}
	if l.SubType == SubTypeOnlyToRep && e.SubType != "" && e.SubType != l.SubType {
		return false
	}
	if len(bytes.TrimSpace(l.JSON)) > 0 && !equalJSON(l.JSON, e.JSON) {
		return false
	}
	return true
}

// equalJSON compares two JSON documents by value (key order and spacing aside).
func equalJSON(a, b json.RawMessage) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(bytes.TrimSpace(a), bytes.TrimSpace(b))
	}
	return reflect.DeepEqual(va, vb)
}

// HeldChats returns the ids of the chats the agent holds now (§5.10): what
// AcceptVerified compares with to see whether an accept took a chat.
func (s *AgentSession) HeldChats(ctx context.Context) (map[string]bool, error) {
	list, err := s.ChatSessions(ctx)
	if err != nil {
		return nil, err
	}
	held := make(map[string]bool, len(list))
	for _, cs := range list {
		held[cs.ChatID] = true
	}
	return held, nil
}

// FindAccepted returns a chat the agent holds (§5.10) that held does not
// know: the chat an accept with an unknown outcome took, if it took one.
func (s *AgentSession) FindAccepted(ctx context.Context, held func(chatID string) bool) (string, bool, error) {
	list, err := s.ChatSessions(ctx)
	if err != nil {
		return "", false, err
	}
	for _, cs := range list {
		if cs.ChatID != "" && !held(cs.ChatID) {
			return cs.ChatID, true, nil
		}
	}
	return "", false, nil
}

// AcceptVerified is Accept for a caller that must not take a chat twice.
// held reports the chats the agent held before (HeldChats, or a poller's
// own list). After an ambiguous failure the chat sessions tell whether a
// chat was taken; when none was, the accept is tried once more (the chat
// still rings, and the accept window is short, §5.9) and checked again,
// also when that try finds nothing ringing (the first may have taken it
// late). It returns ErrAmbiguous only when the chat sessions cannot be read.
func (s *AgentSession) AcceptVerified(ctx context.Context, held func(chatID string) bool) (string, error) {
	var err error
	for try := range 2 {
		var id string
		if id, err = s.Accept(ctx); err == nil {
			return id, nil
		}
		if !errors.Is(err, ErrAmbiguous) && (try == 0 || !errors.Is(err, ErrNotRinging)) {
			return "", err
		}
		cctx, cancel := checkContext(ctx)
		id, found, ferr := s.FindAccepted(cctx, held)
		cancel()
		switch {
		case ferr != nil:
			return "", err
		case found:
			return id, nil
		case ctx.Err() != nil:
			return "", err
		}
	}
	return "", err
}

// ChatEnded reports whether the chat's info says it ended (§5.16).
func (s *AgentSession) ChatEnded(ctx context.Context, chatID string) (bool, error) {
	info, err := s.ChatInfo(ctx, chatID)
	if err != nil {
		return false, err
	}
	return ChatState(info.State) == ChatEnded, nil
}

// EndChatVerified is EndChat for a caller that must not end twice: after an
// ambiguous failure, or a refusal that a first try's success would explain
// (a second end of a chat is refused), the chat's state tells; a chat not
// ended yet is ended once more. It returns ErrAmbiguous only when the state
// cannot be read.
func (s *AgentSession) EndChatVerified(ctx context.Context, chatID string) error {
	return verifiedOnce(ctx,
		func() error { return s.EndChat(ctx, chatID) },
		func(err error) bool { return errors.Is(err, ErrBadRequest) },
		func(ctx context.Context) (bool, error) { return s.ChatEnded(ctx, chatID) })
}

// verifiedOnce runs do. After an ambiguous failure, or a second try's
// failure that refusedAsDone says a first try's success would explain,
// done tells whether the call took effect; when it did not, do runs once
// more. The call's error stands when done cannot tell.
func verifiedOnce(ctx context.Context, do func() error, refusedAsDone func(error) bool,
	done func(context.Context) (bool, error)) error {
	var err error
	for try := range 2 {
		if err = do(); err == nil {
			return nil
		}
		if !errors.Is(err, ErrAmbiguous) && (try == 0 || !refusedAsDone(err)) {
			return err
		}
		cctx, cancel := checkContext(ctx)
		ok, ferr := done(cctx)
		cancel()
		switch {
		case ferr != nil:
			return err
		case ok:
			return nil
		case ctx.Err() != nil:
			return err
		}
	}
	return err
}

// TransferDone reports whether the chat left the agent by a transfer at or
// after since: its events hold a transfer system line (§6.4: 13 to an
// agent, 15 to a skill) of that time, or the chat is no longer the agent's
// to read (404, 403).
func (s *AgentSession) TransferDone(ctx context.Context, chatID string, since time.Time) (bool, error) {
	done := false
	err := s.eachEvent(ctx, chatID, func(e Event) {
		if e.Type == EventLine && (e.SystemMessageID == SysTransferAgent || e.SystemMessageID == SysTransferSkill) &&
			(e.Time.IsZero() || !e.Time.Before(since)) {
			done = true
		}
	})
	if errors.Is(err, ErrNotFound) || statusOf(err) == http.StatusForbidden {
		return true, nil
	}
	return done, err
}

// TransferVerified is Transfer for a caller that must not transfer twice:
// after an ambiguous failure, or a refusal that a first try's success
// would explain (the chat is no longer the agent's), the chat's events tell
// whether it was transferred since since; when not, the transfer is tried
// once more. It returns ErrAmbiguous only when the chat cannot be read.
func (s *AgentSession) TransferVerified(ctx context.Context, chatID string, t Transfer, since time.Time) error {
	return verifiedOnce(ctx,
		func() error { return s.Transfer(ctx, chatID, t) },
		func(err error) bool { return statusOf(err) == http.StatusForbidden },
		func(ctx context.Context) (bool, error) { return s.TransferDone(ctx, chatID, since) })
}

// statusOf is the HTTP status of an lpchat error, 0 when there is none.
func statusOf(err error) int {
	if e, ok := asAPIError(err); ok {
		return e.Status
	}
	return 0
}
