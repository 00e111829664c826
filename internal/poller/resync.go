package poller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/state"
)

// ErrChatPolled is returned by Resync for a chat the worker polls live: its
// cursor belongs to the poll loop, which publishes what is missing itself.
var ErrChatPolled = errors.New("chat is being polled; resync applies to chats that ended or left")

// ChatHistory is what Resync needs of the event stream.
type ChatHistory interface {
	// Stored returns the ids (ce-id) of the events the stream holds for
	// the agent's chat, and the highest seq among them (0 when none).
	Stored(ctx context.Context, account, agent, chatID string) (ids map[string]bool, maxSeq int64, err error)
	// Republish publishes evs in order under Nats-Msg-Ids of their own,
	// keeping their CloudEvent ids: a purge does not clear JetStream's
	// duplicate window, which would drop them under their own ids.
	Republish(ctx context.Context, evs ...events.Event) error
}

// ResyncResult is what Resync did.
type ResyncResult struct {
	Published int `json:"published"` // events the stream lacked, now published
	Present   int `json:"present"`   // events the stream already held
}

// Resync reads a chat whole from the service, maps it to events as a chat
// seen for the first time is mapped (accepted, info, lines and states,
// ended with the transcript, or transferred; not typing, which is not
// history), and publishes those whose ids the stream lacks. It is for
// analytics after an outage longer than the duplicate window or the
// stream's age. The original seq numbers cannot be rebuilt, so the missing
// events are numbered after the higher of the stream's and the cursor's,
// and the saved cursor moves up to match, so live polling never goes
// backwards. A chat the worker polls is refused (ErrChatPolled); with no
// agent session it returns ErrSessionLost. Safe for concurrent use.
func (w *Worker) Resync(ctx context.Context, chatID string, h ChatHistory) (ResyncResult, error) {
	if w.polls(chatID) {
		return ResyncResult{}, ErrChatPolled
	}
	as := w.Session()
	if as == nil {
		return ResyncResult{}, ErrSessionLost
	}
	acct, agent := w.cfg.Account, w.cfg.Agent.Token
	evs, cur, err := w.rebuild(ctx, as, chatID)
	if err != nil {
		return ResyncResult{}, err
	}
	stored, maxSeq, err := h.Stored(ctx, acct, agent, chatID)
	if err != nil {
		return ResyncResult{}, fmt.Errorf("poller: resync chat %s: read the stream: %w", chatID, err)
	}
	saved, found, err := w.store.Cursor(ctx, acct, agent, chatID)
	if err != nil {
		return ResyncResult{}, fmt.Errorf("poller: resync chat %s: %w", chatID, err)
	}
	base := maxSeq
	if found {
		cur = saved // what the poll loop knows stays; only Seq moves up
		base = max(base, saved.Seq)
	}
	missing := slices.DeleteFunc(slices.Clone(evs), func(e events.Event) bool { return stored[e.ID] })
	res := ResyncResult{Published: len(missing), Present: len(evs) - len(missing)}
	if len(missing) == 0 {
		return res, nil
	}
	seq := base
	for i := range missing {
		seq++
		missing[i].Seq = seq
	}
	if err := h.Republish(ctx, missing...); err != nil {
		return ResyncResult{}, fmt.Errorf("poller: resync chat %s: publish: %w", chatID, err)
	}
	cur.Seq = seq
	if err := w.store.SaveCursor(ctx, acct, agent, chatID, cur); err != nil {
		return ResyncResult{}, fmt.Errorf("poller: resync chat %s: save cursor: %w", chatID, err)
	}
	w.log.Info("chat resynced", "chatId", chatID, "published", res.Published, "present", res.Present)
	return res, nil
}

// polls reports whether the worker polls chatID or is about to (a command
// accepted it). agent.Chats is the poll loop's list, kept under mu.
func (w *Worker) polls(chatID string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, handed := w.handed[chatID]
	return handed || slices.Contains(w.agent.Chats, chatID)
}

// rebuild maps the whole chat to its events, with the batch code of the
// poll loop on a chat with a fresh cursor, and returns them with that
// cursor (what a poll from the start would have saved).
func (w *Worker) rebuild(ctx context.Context, as *lpchat.AgentSession, chatID string) ([]events.Event, state.Cursor, error) {
	doc, err := as.Chat(ctx, chatID)
	if err != nil {
		return nil, state.Cursor{}, fmt.Errorf("poller: resync chat %s: %w", chatID, err)
	}
	if doc.Error != "" {
		return nil, state.Cursor{}, fmt.Errorf("%w: chat %s: %s", errChatDocument, chatID, doc.Error)
	}
	b := &batch{w: w, c: *newChat(chatID, state.Cursor{}, false)}
	c := &b.c
	c.visitID = doc.VisitID
	w.noteSkipped(c, doc.Skipped)
	info := doc.Info
	if info == nil {
		ci, err := as.ChatInfo(ctx, chatID)
		switch {
		case lpchat.ChatGone(err):
			// An ended chat's info may be gone; its events are what matters.
		case err != nil:
			return nil, state.Cursor{}, fmt.Errorf("poller: resync chat %s info: %w", chatID, err)
		default:
			info = &ci
		}
	}
	b.accepted(w.defaultAcceptedBy(), false)
	c.cur.Accepted = true
	var d *events.InfoData
	if info != nil {
		if d, err = w.buildInfo(ctx, as, c, info); err != nil {
			return nil, state.Cursor{}, err
		}
		b.info(d, infoHash(info))
	}
	all := newEvents(doc.Events, -1)
	end, transfer, lastTransfer := b.serviceEvents(all)
	if end != nil {
		b.ended(end, all, d)
		c.cur.Done = true
	} else {
		b.transferred(lastTransfer, transferReason(transfer, docFinal, ""))
		c.cur.Left = true
	}
	// accepted and info happened when the chat began, not now.
	start := chatStart(info, all)
	for i := range b.evs {
		if t := b.evs[i].Type; !start.IsZero() && (t == events.ChatAccepted || t == events.ChatInfo) {
			b.evs[i].Time = start
		}
	}
	return b.evs, c.cur, nil
}

// chatStart is when the chat began: its info's start time, else its first
// event's time; zero when neither is known.
func chatStart(info *lpchat.ChatInfo, all []lpchat.Event) time.Time {
	if info != nil && !info.StartTime.IsZero() {
		return info.StartTime
	}
	if len(all) > 0 {
		return all[0].Time
	}
	return time.Time{}
}
