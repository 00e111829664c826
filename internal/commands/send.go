package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// sendResult is the result of chat.send.
type sendResult struct {
	EventID int `json:"eventId"`
}

// send posts a line. Posting is not idempotent, and a call that failed
// ambiguously (timeout, reset, 5xx: lpchat.ErrAmbiguous) may have posted it. So
// a visitor never sees a line twice: after such a failure, and before any
// retry of a command whose earlier try may have acted, the chat's events
// are searched for the line (same text, from the agent, not older than the
// command's first try) and, when found, its event id is the result.
// A failed attempt is never re-sent within the same run, nor by a retry
// within AmbiguityWindow of it: the service may still be storing it. Such
// retries only look; later ones look and then post. A 5xx other than a
// gateway timeout settles it at once: the service is done with the request.
func send(ctx context.Context, r *run, a sendArgs) (any, error) {
	since := r.started.Add(-r.clockSkew)
	line := lpchat.Line{Text: a.Text, TextType: a.TextType, JSON: a.JSON, SubType: a.SubType}
	if r.recheck {
		id, found, err := r.sess.FindLine(ctx, a.ChatID, line, since)
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
	id, err := r.sess.SendLine(ctx, a.ChatID, line)
	if err == nil {
		return sendResult{EventID: id}, nil
	}
	e := upstreamError(ctx, err, true)
	if !e.Ambiguous {
		return nil, e
	}
	id, found, ferr := r.sess.FindLine(ctx, a.ChatID, line, since) // with a fresh context when ctx ran out

	switch {
	case ferr != nil:
	case found:
		return sendResult{EventID: id}, nil
	case settled(err):
		// Not posted, and not on its way: a retry may post at once.
		e.Ambiguous = false
	}
	return nil, e
}
