package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// sendCheckTimeout bounds the look at the chat after a send failed
// ambiguously when the command's own time is already up.
const sendCheckTimeout = 10 * time.Second

// maxEventPages bounds the pages read while looking for a sent line.
const maxEventPages = 1000

// sendResult is the result of chat.send.
type sendResult struct {
	EventID int `json:"eventId"`
}

// send posts a line. Posting is not idempotent, and a call that failed
// ambiguously (timeout, reset: lpchat.ErrAmbiguous) may have posted it. So
// a visitor never sees a line twice: after such a failure, and before any
// retry of a command whose earlier try may have acted, the chat's events
// are searched for the line (same text, from the agent, not older than the
// command's first try) and, when found, its event id is the result.
// A failed attempt is never re-sent within the same run, nor by a retry
// within AmbiguityWindow of it: the service may still be storing it. Such
// retries only look; later ones look and then post.
func send(ctx context.Context, r *run, a sendArgs) (any, error) {
	since := r.started.Add(-r.clockSkew)
	if r.recheck {
		id, found, err := findSentLine(ctx, r.sess, a, since)
		if err != nil {
			// Still unknown whether the earlier try posted it; the record
			// keeps saying so (this run posted nothing).
			e := upstreamError(ctx, err, true)
			e.Ambiguous = false
			return nil, e
		}
		if found {
			return sendResult{EventID: id}, nil
		}
		if wait := r.window - time.Since(r.ambiguousAt); !r.ambiguousAt.IsZero() && wait > 0 {
			return nil, &Error{Code: CodeTimeout, Message: fmt.Sprintf(
				"an earlier try may still be posting this line; it is not in the chat yet, retry in %s", wait.Round(time.Second))}
		}
	}
	line := lpchat.Line{Text: a.Text, TextType: a.TextType, JSON: a.JSON, SubType: a.SubType}
	id, err := r.sess.SendLine(ctx, a.ChatID, line)
	if err == nil {
		return sendResult{EventID: id}, nil
	}
	e := upstreamError(ctx, err, true)
	if !e.Ambiguous {
		return nil, e
	}
	checkCtx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		checkCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), sendCheckTimeout)
		defer cancel()
	}
	if id, found, ferr := findSentLine(checkCtx, r.sess, a, since); ferr == nil && found {
		return sendResult{EventID: id}, nil
	}
	return nil, e
}

// findSentLine looks through the chat's events for the newest agent line
// matching a that is not older than since.
func findSentLine(ctx context.Context, sess *lpchat.AgentSession, a sendArgs, since time.Time) (int, bool, error) {
	found, id := false, 0
	from := 0
	for range maxEventPages {
		evs, next, err := sess.ChatEvents(ctx, a.ChatID, from)
		if err != nil {
			return 0, false, err
		}
		for _, e := range evs {
			if sameLine(e, a, since) {
				found, id = true, e.ID
			}
		}
		if len(evs) == 0 || next <= from {
			break
		}
		from = next
	}
	return id, found, nil
}

// sameLine reports whether e is the line a, posted by the agent at or after
// since. An event without a time is taken to match: doubling a line is worse
// than reporting one that was sent already.
func sameLine(e lpchat.Event, a sendArgs, since time.Time) bool {
	if e.Type != lpchat.EventLine || e.Source != lpchat.SourceAgent || e.Text != a.Text {
		return false
	}
	if !e.Time.IsZero() && e.Time.Before(since) {
		return false
	}
	if a.SubType == lpchat.SubTypeOnlyToRep && e.SubType != "" && e.SubType != a.SubType {
		return false
	}
	if len(bytes.TrimSpace(a.JSON)) > 0 && !sameJSON(a.JSON, e.JSON) {
		return false
	}
	return true
}

// sameJSON compares two JSON documents by value (key order and spacing aside).
func sameJSON(a, b json.RawMessage) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(bytes.TrimSpace(a), bytes.TrimSpace(b))
	}
	return reflect.DeepEqual(va, vb)
}
