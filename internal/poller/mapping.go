package poller

import (
	"slices"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// Short names of the events package's payload values.
const (
	acceptedByAuto    = events.AcceptedByAuto
	acceptedByCommand = events.AcceptedByCommand
	endedByAgent      = events.EndedByAgent
	endedByVisitor    = events.EndedByVisitor
	endedByUnknown    = events.EndedByUnknown
)

// batch collects one chat's events of one poll, in the service's order,
// with the deterministic ids of DESIGN.md §3. Every event of the chat gets
// the next per-chat Seq (kept in the cursor), so seq only grows along a
// chat; the service's own event id is in the data (eventId). A replay after
// a crash recomputes the same Seq for the same events, from the same cursor.
type batch struct {
	w   *Worker
	of  *chat // the chat polled
	c   chat  // its next state (a copy, so nothing moves until it is published)
	evs []events.Event
}

// add appends an event with the chat's next Seq; a zero time means now.
func (b *batch) add(t events.Type, id string, at time.Time, data any) {
	if at.IsZero() {
		at = time.Now().UTC()
	}
	b.c.cur.Seq++
	b.evs = append(b.evs, events.Event{
		ID:      id,
		Type:    t,
		Account: b.w.cfg.Account,
		Agent:   b.w.cfg.Agent.Token,
		ChatID:  b.c.id,
		Seq:     b.c.cur.Seq,
		Time:    at,
		Data:    data,
	})
}

// service adds a line or state event of the service and advances the
// cursor past it. Other event types only advance the cursor.
func (b *batch) service(ev *lpchat.Event) {
	acct := b.w.cfg.Account
	switch ev.Type {
	case lpchat.EventLine:
		b.add(events.ChatLine, events.IDForChatEvent(acct, b.w.cfg.Agent.Token, b.c.id, ev.ID, events.ChatLine), ev.Time, lineData(ev))
	case lpchat.EventState:
		b.add(events.ChatState, events.IDForChatEvent(acct, b.w.cfg.Agent.Token, b.c.id, ev.ID, events.ChatState), ev.Time,
			events.StateData{EventID: ev.ID, State: string(ev.State)})
	default:
		b.w.log.Debug("chat event of unknown type skipped", "chatId", b.c.id, "eventId", ev.ID, "type", ev.Type)
	}
	b.c.cur.LastEventID = ev.ID
}

// accepted adds chat.accepted: once per chat, or again when the chat came
// back to this agent (reentry).
func (b *batch) accepted(by string, reentry bool) {
	id := events.IDForChat(b.w.cfg.Account, b.w.cfg.Agent.Token, b.c.id, events.ChatAccepted)
	if reentry {
		// Taken again after it left this agent: a new fact, keyed by where
		// the chat stood.
		id = events.IDForChatEvent(b.w.cfg.Account, b.w.cfg.Agent.Token, b.c.id, b.c.cur.LastEventID, events.ChatAccepted)
	}
	b.add(events.ChatAccepted, id, time.Time{}, events.AcceptedData{ChatID: b.c.id, AcceptedBy: by})
}

// info adds chat.info; its id counts the chat's info versions, kept in the
// cursor with the digest of what was published.
func (b *batch) info(d *events.InfoData, hash string) {
	b.c.cur.InfoVersion++
	b.c.cur.InfoHash = hash
	id := events.IDForChatVersion(b.w.cfg.Account, b.w.cfg.Agent.Token, b.c.id, events.ChatInfo, b.c.cur.InfoVersion)
	b.add(events.ChatInfo, id, time.Time{}, d)
	b.c.info = d
}

// typing adds chat.typing; its id counts the chat's typing versions.
func (b *batch) typing(on bool) {
	b.c.cur.TypingVersion++
	b.c.cur.Typing = on
	id := events.IDForChatVersion(b.w.cfg.Account, b.w.cfg.Agent.Token, b.c.id, events.ChatTyping, b.c.cur.TypingVersion)
	b.add(events.ChatTyping, id, time.Time{}, events.TypingData{Typing: on})
}

// transferred reports that the chat left this agent; line is the transfer
// system line when there is one, reason how the bridge learnt it.
func (b *batch) transferred(line *lpchat.Event, reason string) {
	at, eventID, text := time.Time{}, b.c.cur.LastEventID, ""
	if line != nil {
		at, eventID, text = line.Time, line.ID, line.Text
	}
	id := events.IDForChatEvent(b.w.cfg.Account, b.w.cfg.Agent.Token, b.c.id, eventID, events.ChatTransferred)
	b.add(events.ChatTransferred, id, at, events.TransferredData{Text: text, EventID: eventID, Reason: reason})
}

// ended adds chat.ended and chat.transcript; all is the whole chat.
func (b *batch) ended(end *lpchat.Event, all []lpchat.Event, info *events.InfoData) {
	acct := b.w.cfg.Account
	by := endedBy(all, end.ID)
	b.add(events.ChatEnded, events.IDForChatEvent(acct, b.w.cfg.Agent.Token, b.c.id, end.ID, events.ChatEnded), end.Time,
		events.EndedData{EndedBy: by, EventID: end.ID})
	t := events.TranscriptData{ChatID: b.c.id, Info: info, EndTime: end.Time, EndedBy: by}
	for i := range all {
		if all[i].Type == lpchat.EventLine {
			t.Lines = append(t.Lines, lineData(&all[i]))
		}
	}
	if info != nil {
		t.StartTime = info.StartTime
	}
	if t.StartTime.IsZero() && len(all) > 0 {
		t.StartTime = all[0].Time
	}
	b.add(events.ChatTranscript, events.IDForChat(acct, b.w.cfg.Agent.Token, b.c.id, events.ChatTranscript), end.Time, t)
}

func lineData(ev *lpchat.Event) events.LineData {
	return events.LineData{
		EventID:         ev.ID,
		Text:            ev.Text,
		TextType:        string(ev.TextType),
		By:              ev.By,
		Source:          string(ev.Source),
		SubType:         string(ev.SubType),
		SystemMessageID: int(ev.SystemMessageID),
		JSON:            ev.JSON,
		Time:            ev.Time,
	}
}

// endedBy reads who ended a chat from the system line next to its "ended"
// state: #5 agent, #6 visitor (disconnected); the service may write that
// line just before or just after the state event.
func endedBy(all []lpchat.Event, endedID int) string {
	i := slices.IndexFunc(all, func(e lpchat.Event) bool { return e.ID == endedID })
	if i < 0 {
		return endedByUnknown
	}
	for _, j := range []int{i - 1, i + 1} {
		if j < 0 || j >= len(all) || all[j].Type != lpchat.EventLine || all[j].Source != lpchat.SourceSystem {
			continue
		}
		switch all[j].SystemMessageID {
		case lpchat.SysAgentEnded:
			return endedByAgent
		case lpchat.SysDisconnected:
			return endedByVisitor
		}
	}
	return endedByUnknown
}

func isTransferLine(ev *lpchat.Event) bool {
	return ev.Type == lpchat.EventLine && ev.Source == lpchat.SourceSystem &&
		(ev.SystemMessageID == lpchat.SysTransferAgent || ev.SystemMessageID == lpchat.SysTransferSkill)
}

// newEvents returns the events after last, sorted by id. Events in
// ascending order already, as the service sends them, come back as a
// subslice of evs (no copy): callers only read them.
func newEvents(evs []lpchat.Event, last int) []lpchat.Event {
	if ascending(evs) {
		i := 0
		for i < len(evs) && evs[i].ID <= last {
			i++
		}
		return evs[i:]
	}
	out := make([]lpchat.Event, 0, len(evs))
	for _, e := range evs {
		if e.ID > last {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b lpchat.Event) int { return a.ID - b.ID })
	return slices.CompactFunc(out, func(a, b lpchat.Event) bool { return a.ID == b.ID })
}

// ascending reports whether the event ids strictly ascend.
func ascending(evs []lpchat.Event) bool {
	for i := 1; i < len(evs); i++ {
		if evs[i].ID <= evs[i-1].ID {
			return false
		}
	}
	return true
}
