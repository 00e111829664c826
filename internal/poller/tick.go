package poller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// poll ticks until the session is lost (it returns that error), ctx ends
// or Stop is called (errStopped; the tick in progress completes first).
// Other failures cost one extra interval and polling goes on.
//
// Ticks are fixed-rate: each is due PollInterval after the one before,
// however long that took, so a line waits at most one interval for the
// poll that reads it. The first tick runs at once; the schedule after it is
// delayed once by a random phase of up to Jitter of the interval, so that
// workers started together (a bridge booting, a replica taking over) poll
// evenly over the interval rather than together, and no gap is shorter
// than the interval. A tick that overran its slot skips the slots it missed
// instead of catching up in a burst.
func (w *Worker) poll(ctx context.Context, as *lpchat.AgentSession, polled *bool) error {
	every := w.cfg.PollInterval
	due := time.Now()
	for n := 0; ; n++ {
		if w.stopping() {
			return errStopped
		}
		tctx, span := w.startTick(ctx)
		start := time.Now()
		err := w.keepLogin(tctx)
		if err == nil {
			err = w.tick(tctx, as, n > 0 && n%w.cfg.SessionSyncEvery == 0)
		}
		w.endTick(ctx, span, start, err)
		next := due.Add(every)
		if n == 0 {
			next = next.Add(w.phase())
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case w.serverFailed(err, sessionServerFailures):
			return fmt.Errorf("%w: %d ticks in a row: %w", ErrSessionLost, sessionServerFailures, err)
		case err == nil:
			w.lastOK.Store(time.Now().UnixNano())
			*polled = true
		case sessionGone(err), errors.Is(err, errLoginFinal):
			return err
		default:
			w.log.Warn("poll tick failed; backing off one interval", "err", err)
			next = next.Add(every)
		}
		due = nextSlot(next, every, time.Now())
		if !w.sleep(ctx, time.Until(due)) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errStopped
		}
	}
}

// phase is the random delay of a worker's tick schedule: up to Jitter of
// PollInterval.
func (w *Worker) phase() time.Duration {
	return time.Duration(float64(w.cfg.PollInterval) * w.cfg.Jitter * rand.Float64())
}

// nextSlot is due, or when now is past it, the first slot of the schedule
// (due + k·every) after now.
func nextSlot(due time.Time, every time.Duration, now time.Time) time.Time {
	if late := now.Sub(due); late > 0 {
		due = due.Add((late/every + 1) * every)
	}
	return due
}

// tick is one poll: pending agent events, then ONE Agent API read of the
// agent (the ringing count, with auto-accept, or on a sync tick the sync
// read that takes its place), then ONE multi-chat request for all known
// chats: two requests at most whatever the chat count (one with no chat
// open), besides what new, ended or moved chats cost. syncDue says that
// this tick is one of every SessionSyncEvery, when the next sync read, in
// turn chatSessions or the availability, falls due.
func (w *Worker) tick(ctx context.Context, as *lpchat.AgentSession, syncDue bool) error {
	if syncDue {
		w.scheduleSync()
	}
	// A sync read may take the ring's place only when the last tick read
	// the ringing count, so a ringing chat is seen at most one tick later:
	// well within the 20 s accept window (§5.9) at any sane PollInterval.
	mayYield := !w.ringSkipped
	w.ringSkipped = true // until this tick reads it
	if err := w.flushAgent(ctx); err != nil {
		return err
	}
	if err := w.adoptHanded(ctx); err != nil {
		return err
	}
	var err error
	switch {
	case !mayYield || !w.sessionsOwed && !w.statusOwed:
		err = w.ring(ctx, as)
	case w.nextSyncSessions():
		err = w.syncSessions(ctx, as)
		w.syncedSessions, w.syncFailing = true, errors.Is(err, errSessionServer)
	default:
		err = w.syncStatus(ctx, as)
		w.syncedSessions, w.syncFailing = false, errors.Is(err, errSessionServer)
	}
	if err != nil {
		return err
	}
	if err := w.flushAgent(ctx); err != nil {
		return err
	}
	return w.pollChats(ctx, as)
}

// nextSyncSessions reports whether the owed sync read to make now is
// chatSessions (else the availability): when both are owed, the one that
// just failed with 5xx again (serverFailed counts its attempts), else the
// one not read last.
func (w *Worker) nextSyncSessions() bool {
	if !w.sessionsOwed || !w.statusOwed {
		return w.sessionsOwed
	}
	return w.syncedSessions == w.syncFailing
}

// ring reads the ringing count, publishes it when it changed and, with
// AutoAccept, takes every ringing chat.
func (w *Worker) ring(ctx context.Context, as *lpchat.AgentSession) error {
	r, err := as.IncomingRequests(ctx)
	if err != nil {
		return sessionCall("incoming requests", err)
	}
	w.ringSkipped = false
	w.noteRinging(r.Count)
	if !w.cfg.Agent.AutoAccept {
		return nil
	}
	for range r.Count {
		// A chat the worker does not poll yet, in chatSessions after an
		// ambiguous accept, is the one it took (AcceptVerified).
		id, err := as.AcceptVerified(ctx, w.knows)
		switch {
		case errors.Is(err, lpchat.ErrNotRinging):
			return nil
		case errors.Is(err, lpchat.ErrAmbiguous):
			// Still unknown: the next tick's chatSessions tells.
			w.sessionsOwed, w.acceptedBy = true, acceptedByAuto
			return fmt.Errorf("poller: accept: %w", err)
		case errors.Is(err, lpchat.ErrNotFound), errors.Is(err, lpchat.ErrBadRequest):
			// Gone meanwhile (rerouted, visitor left); not our failure.
			w.log.Info("ringing chat could not be accepted", "err", err)
			return nil
		case err != nil:
			return fmt.Errorf("poller: accept: %w", err)
		}
		w.log.Info("chat accepted", "chatId", id)
		if err := w.adopt(ctx, id, acceptedByAuto); err != nil {
			return err
		}
	}
	return nil
}

// ignoreKind says why the worker does not poll a chat it has put aside.
type ignoreKind uint8

const (
	// ignoredEnded: the chat ended (its cursor is Done); chatSessions may
	// list it a while longer.
	ignoredEnded ignoreKind = iota + 1
	// ignoredLeft: the chat left the agent (transferred, requeued, no
	// longer its). If chatSessions lists it again after an accept, it came
	// back: a chat requeued from a reaped agent session rings at the same
	// agent again.
	ignoredLeft
)

// knows reports whether the worker polls the chat, saw it end, or was
// handed it by Track (a command took it). A chat that left the agent is
// not known: taken again, it is the agent's once more.
func (w *Worker) knows(id string) bool {
	if _, ok := w.chats[id]; ok || w.ignored[id] == ignoredEnded {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, handed := w.handed[id]
	return handed
}

// adopt starts polling a chat the agent took; the chat's next poll
// publishes chat.accepted. A chat known from before (its cursor is in KV)
// continues from its cursor.
func (w *Worker) adopt(ctx context.Context, id, by string) error {
	delete(w.ignored, id)
	if c, ok := w.chats[id]; ok {
		switch {
		case c.retiring:
			// Taken back while its last read is being saved (found by
			// the chaos run: the chat was then put aside for good).
			c.takenBack = true
		case c.known():
			// Back after it was requeued or transferred: accepted again.
			c.acceptedBy, c.reentry = by, true
		}
		return nil
	}
	cur, found, err := w.store.Cursor(ctx, w.cfg.Account, w.cfg.Agent.Token, id)
	if err != nil {
		return fmt.Errorf("poller: load cursor of chat %s: %w", id, err)
	}
	if found && cur.Done {
		w.ignored[id] = ignoredEnded
		return nil
	}
	c := newChat(id, cur, found)
	c.acceptedBy, c.reentry = by, found && cur.Accepted
	w.addChat(c)
	w.setChats()
	return nil
}

// adoptHanded adopts the chats handed in by Track.
func (w *Worker) adoptHanded(ctx context.Context) error {
	w.mu.Lock()
	handed := w.handed
	if len(handed) > 0 {
		w.handed = map[string]string{}
	}
	w.mu.Unlock()
	for id, by := range handed {
		if c, ok := w.chats[id]; ok && c.known() && !c.retiring {
			continue // already polled; nothing new to say
		}
		if err := w.adopt(ctx, id, by); err != nil {
			w.Track(id) // try again next tick
			return err
		}
	}
	return nil
}

// pollChats reads new chats whole (GET chat: links, info, all events) and
// all other chats with one multi-chat request, whose new events it
// publishes in one call.
func (w *Worker) pollChats(ctx context.Context, as *lpchat.AgentSession) error {
	var errs []error
	for _, c := range w.sortedChats() {
		var err error
		switch {
		case c.retiring:
			err = w.saveChat(ctx, c)
		case !c.known() || c.reentry:
			err = w.pollOne(ctx, as, c, docFull)
		}
		if sessionGone(err) {
			return err
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	open, cursors := w.open[:0], w.cursors[:0]
	for _, c := range w.sortedChats() {
		if !c.retiring && c.known() && !c.reentry {
			open = append(open, c)
			cursors = append(cursors, lpchat.ChatCursor{ChatID: c.id, LastEventID: c.cur.LastEventID})
		}
	}
	w.open, w.cursors = open, cursors
	defer clear(w.open) // keep no chat alive past the tick
	if len(open) == 0 {
		return errors.Join(errs...)
	}
	docs, err := as.Chats(ctx, cursors)
	switch {
	case lpchat.ChatGone(err):
		// One of the chats is no longer this agent's; find it chat by chat.
		return errors.Join(append(errs, w.pollEach(ctx, as, open, err)...)...)
	case err != nil:
		return errors.Join(append(errs, fmt.Errorf("poller: poll chats: %w", err))...)
	}
	if w.docs == nil {
		w.docs = make(map[string]*lpchat.Chat, len(docs))
	}
	byID := w.docs
	defer clear(byID) // keep no document alive past the tick
	for i := range docs {
		id := docs[i].ID
		if id == "" && docs[i].Info != nil {
			id = docs[i].Info.ChatSessionKey
		}
		if id == "" && len(open) == 1 && len(docs) == 1 {
			id = open[0].id
		}
		byID[id] = &docs[i]
	}
	// Every chat's events go out in one Publish call (publishChats); a
	// chat with nothing to publish but state to save saves it at once.
	built := w.built[:0]
	for _, c := range open {
		err = nil
		d, ok := byID[c.id]
		switch {
		case ok:
			var b *batch
			b, err = w.buildChat(ctx, as, c, d, docNew)
			switch {
			case b == nil:
			case len(b.evs) == 0:
				err = w.commitChat(ctx, b)
			default:
				built = append(built, b)
			}
		case c.unsaved:
			err = w.saveChat(ctx, c)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	w.built = built
	defer clear(w.built)
	return errors.Join(append(errs, w.publishChats(ctx, built)...)...)
}

// pollOne reads one chat whole. A chat the service no longer lets this
// agent read (lpchat.ChatGone) has left it: retireGone.
func (w *Worker) pollOne(ctx context.Context, as *lpchat.AgentSession, c *chat, kind docKind) error {
	doc, err := as.Chat(ctx, c.id)
	if lpchat.ChatGone(err) {
		return w.retireGone(ctx, as, c, err)
	}
	if err != nil {
		return fmt.Errorf("poller: read chat %s: %w", c.id, err)
	}
	return w.processChat(ctx, as, c, doc, kind)
}

// sortedChats lists the chats in a stable order (by id). The list is built
// again only after the set of chats changed (addChat, dropChat), into a new
// slice: a caller may range over it while chats are added or dropped, as
// over a snapshot, and must not change it.
func (w *Worker) sortedChats() []*chat {
	if w.order != nil || len(w.chats) == 0 {
		return w.order
	}
	out := make([]*chat, 0, len(w.chats))
	for _, c := range w.chats {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *chat) int { return strings.Compare(a.id, b.id) })
	w.order = out
	return out
}

// addChat starts polling c.
func (w *Worker) addChat(c *chat) {
	w.chats[c.id] = c
	w.order = nil
}

// dropChat stops polling the chat id.
func (w *Worker) dropChat(id string) {
	delete(w.chats, id)
	w.order = nil
}
