package poller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/state"
)

// chat is one chat the worker polls. Only the Run goroutine touches it.
// What must survive a restart (accepted, typing, info versions) is in the
// cursor; the rest is a cache.
type chat struct {
	id         string
	cur        state.Cursor // what has been published (and, unless unsaved, saved)
	unsaved    bool         // cur is published but not yet in KV
	acceptedBy string       // acceptedBy of the chat.accepted still to publish
	reentry    bool         // taken again after it had left this agent
	listed     bool         // seen in chatSessions (or resumed from KV)
	retiring   bool         // ended or left: save the cursor, then drop it
	takenBack  bool         // accepted again while retiring: polled again once dropped
	visitID    string
	info       *events.InfoData // last info published by this process
	newest     time.Time        // time of the newest event published since the last save (cursor lag)
	goneReason string           // why the service no longer lets this agent read it (retireGone)
	skipped    map[string]bool  // fields whose odd values were already logged (noteSkipped)
}

func newChat(id string, cur state.Cursor, found bool) *chat {
	if !found {
		cur = state.NewCursor()
	}
	return &chat{id: id, cur: cur}
}

// known reports whether the chat's first events (accepted, info) went out;
// until then the chat is read whole.
func (c *chat) known() bool { return c.cur.Accepted && c.cur.InfoVersion > 0 }

// docKind says what a chat document holds.
type docKind int

const (
	docNew   docKind = iota // only events after the cursor (multi-chat)
	docFull                 // the whole chat (GET chat)
	docFinal                // the whole chat, which chatSessions no longer lists
)

// processChat maps one chat document to events, publishes them in order and
// only then saves the chat's cursor (DESIGN.md §4.1). On any error nothing
// of the chat's state moves, so the next poll produces the same events with
// the same ids. pollChats runs its two steps, buildChat and commitChat, for
// many chats around one Publish call (publishChats).
func (w *Worker) processChat(ctx context.Context, as *lpchat.AgentSession, c *chat, doc *lpchat.Chat, kind docKind) error {
	b, err := w.buildChat(ctx, as, c, doc, kind)
	if b == nil || err != nil {
		return err
	}
	if len(b.evs) > 0 {
		if err := w.pub.Publish(ctx, b.evs...); err != nil {
			return fmt.Errorf("poller: publish events of chat %s: %w", c.id, err)
		}
	}
	return w.commitChat(ctx, b)
}

// buildChat maps one chat document to the chat's events and next state, in
// a batch; c itself does not move. It may read more of the chat (its info,
// the whole chat when it ended). A nil batch and nil error: nothing is left
// to do, as only caches moved (they are in c) or the chat turned out gone
// and was retired (retireGone). Else the batch's events are to be published
// and then committed (commitChat), even when there are none: the chat has
// state to save.
func (w *Worker) buildChat(ctx context.Context, as *lpchat.AgentSession, c *chat, doc *lpchat.Chat, kind docKind) (*batch, error) {
	if doc.Error != "" {
		return nil, fmt.Errorf("%w: chat %s: %s", errChatDocument, c.id, doc.Error)
	}
	w.noteSkipped(c, doc.Skipped)
	b := &batch{w: w, c: *c, of: c}
	n := &b.c
	if doc.VisitID != "" {
		n.visitID = doc.VisitID
	}
	info := doc.Info
	if info == nil && n.cur.InfoVersion == 0 && kind != docFinal {
		ci, err := as.ChatInfo(ctx, c.id)
		if lpchat.ChatGone(err) {
			return nil, w.retireGone(ctx, as, c, err)
		}
		if err != nil {
			return nil, fmt.Errorf("poller: chat %s info: %w", c.id, err)
		}
		info = &ci
	}

	justAccepted := !n.cur.Accepted || n.reentry
	if justAccepted {
		by := n.acceptedBy
		if by == "" {
			by = acceptedByCommand
		}
		b.accepted(by, n.reentry)
		n.cur.Accepted, n.cur.Left, n.acceptedBy, n.reentry = true, false, "", false
	}
	if info != nil && (n.cur.InfoVersion == 0 || !infoHashIs(info, n.cur.InfoHash)) {
		d, err := w.infoFor(ctx, as, n, info)
		if err != nil {
			return nil, err
		}
		b.info(d, infoHash(info))
	}

	evs := newEvents(doc.Events, n.cur.LastEventID)
	elsewhere := w.movedOn(info)
	moved := false
	switch {
	case kind == docFinal:
		evs = heldPart(evs, n.cur.Accepted)
	case !justAccepted && elsewhere:
		// Taken by the agent the info names: between two chatSessions
		// reads only this poll tells (the service may let the old agent
		// read on, §12). Its conversation is not this agent's.
		evs, moved = untilChatting(evs)
	case elsewhere:
		// Read from its start (taken by this agent, nothing published
		// yet: a first read that failed, a crash) and taken by another
		// since: this agent's part ends at the other's accept. Only when
		// the events show that accept: a chat this agent just took is
		// not given up on the info alone.
		held := heldPart(evs, false)
		evs, moved = held, len(held) < len(evs)
	}
	end, transfer, lastTransfer := b.serviceEvents(evs)

	switch {
	case end != nil:
		if err := w.finish(ctx, as, b, end, doc, kind, info); err != nil {
			return nil, err
		}
	case transfer != nil || kind == docFinal || moved || (lastTransfer != nil && elsewhere):
		b.transferred(lastTransfer, transferReason(transfer, kind, n.goneReason))
		n.retiring, n.cur.Left = true, true
	case info != nil && (lpchat.Typing(info.VisitorTyping) == lpchat.TypingOn) != n.cur.Typing:
		b.typing(lpchat.Typing(info.VisitorTyping) == lpchat.TypingOn)
	}

	if len(b.evs) == 0 && !n.unsaved && !n.retiring {
		*c = *n // only caches moved
		return nil, nil
	}
	return b, nil
}

// commitChat moves the chat to the state b built, once b's events were
// acknowledged, and saves its cursor.
func (w *Worker) commitChat(ctx context.Context, b *batch) error {
	return w.saveChat(ctx, advance(b))
}

// advance moves the chat to the state b built, once b's events were
// acknowledged, and returns it; its cursor is still to be saved.
func advance(b *batch) *chat {
	n := &b.c
	if len(b.evs) > 0 {
		n.unsaved = true
		n.newest = newestTime(n.newest, b.evs)
	}
	*b.of = *n
	return b.of
}

// finish completes a chat whose "ended" state arrived: it takes the whole
// chat (also events the service wrote after the state, like system line #5),
// then adds chat.ended and the chat.transcript once, and marks the cursor
// Done so the chat is polled no more.
func (w *Worker) finish(ctx context.Context, as *lpchat.AgentSession, b *batch, end *lpchat.Event, doc *lpchat.Chat, kind docKind, info *lpchat.ChatInfo) error {
	all := doc.Events
	if kind == docNew {
		full, err := as.Chat(ctx, b.c.id)
		switch {
		case lpchat.ChatGone(err):
			// Gone with its history: the transcript can only hold what
			// this poll brought.
			w.log.Warn("ended chat no longer readable; its transcript lacks earlier lines", "chatId", b.c.id)
		case err != nil:
			return fmt.Errorf("poller: read ended chat %s: %w", b.c.id, err)
		default:
			w.noteSkipped(&b.c, full.Skipped)
			all = full.Events
			if full.Info != nil {
				info = full.Info
			}
		}
	}
	all = newEvents(all, -1)
	for _, ev := range newEvents(all, b.c.cur.LastEventID) {
		b.service(&ev)
	}
	d := b.c.info
	if d == nil && info != nil {
		var err error
		if d, err = w.buildInfo(ctx, as, &b.c, info); err != nil {
			return err
		}
	}
	b.ended(end, all, d)
	b.c.cur.Done = true
	b.c.retiring = true
	return nil
}

// transferReason is chat.transferred's reason: a transfer line still in
// force, else the service's refusal (gone), else, for a chat chat sessions
// no longer list, "unlisted"; else the info named another agent.
func transferReason(transfer *lpchat.Event, kind docKind, gone string) string {
	switch {
	case transfer != nil:
		return events.TransferReasonLine
	case gone != "":
		return gone
	case kind == docFinal:
		return events.TransferReasonUnlisted
	default:
		return events.TransferReasonAgent
	}
}

// movedOn reports whether the chat's info names another agent than this one.
func (w *Worker) movedOn(info *lpchat.ChatInfo) bool {
	return info != nil && w.ownID != "" && info.AgentID != "" && info.AgentID != w.ownID
}

// saveChat saves the chat's cursor; a retiring chat is then dropped.
func (w *Worker) saveChat(ctx context.Context, c *chat) error {
	if err := w.putCursor(ctx, c); err != nil {
		return err
	}
	w.savedChat(c)
	return nil
}

// putCursor writes the chat's cursor to KV, when it is unsaved. It only
// reads c, so that saveChats may run it for many chats at once.
func (w *Worker) putCursor(ctx context.Context, c *chat) error {
	if !c.unsaved {
		return nil
	}
	if err := w.store.SaveCursor(ctx, w.cfg.Account, w.cfg.Agent.Token, c.id, c.cur); err != nil {
		return fmt.Errorf("poller: save cursor of chat %s: %w", c.id, err)
	}
	return nil
}

// savedChat records that the chat's cursor is in KV; a retiring chat is
// dropped.
func (w *Worker) savedChat(c *chat) {
	if c.unsaved {
		c.unsaved = false
		if !c.newest.IsZero() {
			w.cfg.Metrics.ObserveCursorLag(time.Since(c.newest))
			c.newest = time.Time{}
		}
	}
	if c.retiring {
		w.dropChat(c.id)
		switch {
		case c.cur.Done:
			w.ignored[c.id] = ignoredEnded
		case c.takenBack:
			// Not put aside: the next chatSessions read adopts it again.
			w.sessionsOwed = true
		default:
			w.ignored[c.id] = ignoredLeft
		}
		w.setChats()
	}
}

// infoFor is the chat.info payload for info: the visit's details come from
// the cache when this process already read them, else from the service.
func (w *Worker) infoFor(ctx context.Context, as *lpchat.AgentSession, c *chat, info *lpchat.ChatInfo) (*events.InfoData, error) {
	if c.info == nil {
		return w.buildInfo(ctx, as, c, info)
	}
	d := *c.info
	fromChatInfo(&d, info)
	return &d, nil
}

// fromChatInfo copies what the chat's own info says into d.
func fromChatInfo(d *events.InfoData, info *lpchat.ChatInfo) {
	if info == nil {
		return
	}
	d.VisitorName = info.VisitorName
	d.VisitorID = info.VisitorID
	d.Language = info.Language
	d.SkillID = info.SkillID
	d.SkillName = info.SkillName
	d.StartTime = info.StartTime
}

// infoHash digests the parts of the chat info that chat.info reports and
// that may change during a chat (the visitor may give a name, the chat may
// move to another skill); a new digest means a new chat.info. Cursors keep
// it: it must not change from one release to the next.
func infoHash(info *lpchat.ChatInfo) string {
	var buf [16]byte
	return string(appendInfoHash(buf[:0], info))
}

// infoHashIs reports whether info digests to hash; every poll of a chat
// asks, so it allocates nothing.
func infoHashIs(info *lpchat.ChatInfo, hash string) bool {
	var buf [16]byte
	return string(appendInfoHash(buf[:0], info)) == hash
}

// appendInfoHash appends infoHash's digest, in hex, to dst: the first 8
// bytes of the SHA-256 of the fields, each followed by a 0 byte.
func appendInfoHash(dst []byte, info *lpchat.ChatInfo) []byte {
	var in [256]byte
	b := in[:0]
	for _, s := range [...]string{info.VisitorName, info.VisitorID, info.Language, info.SkillID, info.SkillName} {
		b = append(append(b, s...), 0)
	}
	sum := sha256.Sum256(b)
	return hex.AppendEncode(dst, sum[:8])
}

// buildInfo assembles chat.info: the chat's info plus, where the service has
// them, the visit's device, OS, browser, IP, pre-chat survey and custom
// variables. The visit resources are undocumented (§5.22), so their absence
// (404, 400, an odd document) only leaves those fields empty.
func (w *Worker) buildInfo(ctx context.Context, as *lpchat.AgentSession, c *chat, info *lpchat.ChatInfo) (*events.InfoData, error) {
	d := &events.InfoData{}
	fromChatInfo(d, info)
	visitID := c.visitID
	if visitID == "" {
		visitID = lpchat.VisitIDOf(c.id)
	}
	if visitID == "" {
		return d, nil
	}
	v, err := as.Visit(ctx, visitID)
	switch {
	case err == nil:
		d.Device, d.OS, d.Browser, d.IP = v.Device, v.OS, v.Browser, v.IP
		for _, a := range v.PreChatSurvey {
			d.PreChatSurvey = append(d.PreChatSurvey, events.SurveyAnswer{QuestionID: a.QuestionID, Label: a.Label, Value: a.Value})
		}
	case optionalResource(err):
		w.log.Debug("visit not readable", "chatId", c.id, "err", err)
	default:
		return nil, fmt.Errorf("poller: chat %s visit: %w", c.id, err)
	}
	vars, err := as.CustomVariables(ctx, visitID)
	switch {
	case err == nil:
		for _, v := range vars {
			if d.CustomVariables == nil {
				d.CustomVariables = make(map[string]string, len(vars))
			}
			d.CustomVariables[v.Name] = v.Value
		}
	case optionalResource(err):
		w.log.Debug("custom variables not readable", "chatId", c.id, "err", err)
	default:
		return nil, fmt.Errorf("poller: chat %s custom variables: %w", c.id, err)
	}
	return d, nil
}

// optionalResource reports errors that mean "this undocumented resource is
// not there" rather than "try again".
func optionalResource(err error) bool {
	return errors.Is(err, lpchat.ErrNotFound) || errors.Is(err, lpchat.ErrBadRequest) || errors.Is(err, lpchat.ErrProtocol)
}

// heldPart is what of a chat's new events happened while this agent held
// it, for the last read of a chat chatSessions no longer lists: the events
// up to the moment another agent took it, that is a chatting state after a
// waiting one (requeued when the agent session was reaped, or transferred
// to a skill) once the chat was the agent's (accepted: from before these
// events, or a chatting state among them). What follows is the other
// agent's conversation, its end and transcript included: published here it
// would be on this agent's subjects and end in a second transcript.
func heldPart(evs []lpchat.Event, accepted bool) []lpchat.Event {
	held, waiting := accepted, false
	for i, ev := range evs {
		if ev.Type != lpchat.EventState {
			continue
		}
		switch lpchat.ChatState(ev.State) {
		case lpchat.ChatChatting:
			if held && waiting {
				return evs[:i]
			}
			held, waiting = true, false
		case lpchat.ChatWaiting:
			waiting = held
		}
	}
	return evs
}

// untilChatting is evs up to the first chatting state, and whether there
// was one: for a chat whose info names another agent, that state is the
// other agent taking it.
func untilChatting(evs []lpchat.Event) ([]lpchat.Event, bool) {
	for i, ev := range evs {
		if ev.Type == lpchat.EventState && lpchat.ChatState(ev.State) == lpchat.ChatChatting {
			return evs[:i], true
		}
	}
	return evs, false
}

// serviceEvents adds the service's events to b, in order, and finds in them
// the end of the chat (its "ended" state), transfer (a transfer line no
// later "chatting" state undid: the chat left this agent) and lastTransfer
// (the last transfer line at all).
func (b *batch) serviceEvents(evs []lpchat.Event) (end, transfer, lastTransfer *lpchat.Event) {
	for i := range evs {
		ev := &evs[i]
		b.service(ev)
		switch {
		case ev.Type == lpchat.EventState && ev.State == lpchat.ChatEnded:
			end = ev
		case ev.Type == lpchat.EventState && ev.State == lpchat.ChatChatting:
			transfer = nil // an earlier transfer brought the chat here
		case isTransferLine(ev):
			transfer, lastTransfer = ev, ev
		}
	}
	return end, transfer, lastTransfer
}
