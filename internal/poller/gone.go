package poller

import (
	"context"
	"net/http"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// A chat that left the agent (transferred, requeued, taken over) may answer
// 403, 404, 410 or 400 from then on (lpchat.ChatGone). Such a chat is
// retired here, in one place, so that it neither fails the tick on every
// poll nor stops the agent's other chats.

// goneReason is chat.transferred's reason for the status of a gone chat.
func goneReason(err error) string {
	switch lpchat.GoneStatus(err) {
	case http.StatusForbidden:
		return events.TransferReasonForbidden
	case http.StatusGone:
		return events.TransferReasonGone
	case http.StatusBadRequest:
		return events.TransferReasonRejected
	default:
		return events.TransferReasonNotFound
	}
}

// retireGone handles a chat the service no longer lets this agent read
// (err is the service's answer): a chat that was accepted gets
// chat.transferred with the reason and its cursor is retired; a chat never
// accepted here is forgotten.
func (w *Worker) retireGone(ctx context.Context, as *lpchat.AgentSession, c *chat, err error) error {
	reason := goneReason(err)
	if !c.cur.Accepted {
		w.log.Info("chat is not this agent's; not polling it", "chatId", c.id, "reason", reason, "err", err)
		w.dropChat(c.id)
		w.setChats()
		return nil
	}
	w.log.Info("chat is no longer this agent's; retiring it", "chatId", c.id, "reason", reason, "err", err)
	c.reentry, c.goneReason = false, reason // a chat gone again is not accepted again
	return w.processChat(ctx, as, c, &lpchat.Chat{ID: c.id}, docFinal)
}

// pollEach reads the chats one by one, after the multi-chat request was
// refused as a whole (one of them is gone, §5.12): the gone ones are
// retired, the others processed, and the next tick asks for the rest in one
// request again.
func (w *Worker) pollEach(ctx context.Context, as *lpchat.AgentSession, open []*chat, refused error) []error {
	w.log.Info("multi-chat request refused; reading the chats one by one", "chats", len(open), "err", refused)
	var errs []error
	for _, c := range open {
		err := w.pollOne(ctx, as, c, docFull)
		if sessionGone(err) {
			return []error{err}
		}
		errs = append(errs, err)
	}
	return errs
}

// noteSkipped counts and logs the values of a chat document that did not
// decode (lpchat.Skipped), once per chat and field: the same odd value
// comes back on every poll and would otherwise flood the log.
func (w *Worker) noteSkipped(c *chat, skipped []lpchat.Skipped) {
	for _, s := range skipped {
		if c.skipped[s.Field] {
			continue
		}
		if c.skipped == nil {
			c.skipped = map[string]bool{}
		}
		c.skipped[s.Field] = true
		w.cfg.Metrics.LPDecodeSkipped(s.Field)
		w.log.Warn("chat document value did not decode; left out", "chatId", c.id, "field", s.Field, "reason", s.Reason)
	}
}
