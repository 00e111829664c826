package poller

import (
	"context"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// scheduleSync makes the next sync read owed: chatSessions and the
// availability in turn. Both are Agent API requests, so either keeps the
// agent session alive (§8) on the tick it takes the ring's place.
func (w *Worker) scheduleSync() {
	if w.syncStatusNext {
		w.statusOwed = true
	} else {
		w.sessionsOwed = true
	}
	w.syncStatusNext = !w.syncStatusNext
}

// resetSync starts the sync schedule of a new agent session: nothing
// owed, and availability first (startupStatus has just read it, the first
// tick reads chatSessions).
func (w *Worker) resetSync() {
	w.sessionsOwed, w.statusOwed, w.syncStatusNext = false, false, true
	w.ringSkipped, w.syncedSessions, w.syncFailing = false, false, false
}

// syncSessions reads the chats the agent session holds (§5.10). A chat the
// worker does not poll yet was taken by someone else, e.g. the command
// consumer: chat.accepted (acceptedBy "command") once, then it is polled.
// A polled chat that is no longer listed is read one last time: it ended,
// or it left this agent (chat.transferred).
func (w *Worker) syncSessions(ctx context.Context, as *lpchat.AgentSession) error {
	list, err := as.ChatSessions(ctx)
	if err != nil {
		return sessionCall("chat sessions", err) // still owed: read again
	}
	by := w.acceptedBy
	acceptOwed := by != "" // an ambiguous accept: its chat is among those listed
	if by == "" {
		by = acceptedByCommand
	}
	w.sessionsOwed, w.acceptedBy = false, ""

	listed := make(map[string]bool, len(list))
	for _, cs := range list {
		if cs.ChatID == "" || listed[cs.ChatID] {
			continue
		}
		listed[cs.ChatID] = true
		if c, ok := w.chats[cs.ChatID]; ok {
			c.listed = true
			continue
		}
		if k, ok := w.ignored[cs.ChatID]; ok && (k == ignoredEnded || !acceptOwed) {
			continue
		}
		if err := w.adopt(ctx, cs.ChatID, by); err != nil {
			return err
		}
		if c, ok := w.chats[cs.ChatID]; ok {
			c.listed = true
		}
		w.log.Info("chat found in chat sessions", "chatId", cs.ChatID, "acceptedBy", by)
	}
	for id := range w.ignored {
		if !listed[id] {
			delete(w.ignored, id)
		}
	}
	var gone []*chat
	for _, c := range w.sortedChats() {
		if c.listed && !listed[c.id] && !c.retiring {
			gone = append(gone, c)
		}
	}
	w.setChats()
	for _, c := range gone {
		w.log.Info("chat no longer in chat sessions; reading it a last time", "chatId", c.id)
		if err := w.pollOne(ctx, as, c, docFinal); err != nil {
			return err
		}
	}
	return nil
}

// syncStatus reads the availability and publishes agent.status (cause
// "service") when it changed, e.g. Away after a missed ring. With
// RestoreAvailability it then sets back what the bridge last set (cause
// "restore").
func (w *Worker) syncStatus(ctx context.Context, as *lpchat.AgentSession) error {
	w.mu.Lock()
	gen := w.statusGen
	w.mu.Unlock()
	st, err := as.Availability(ctx)
	if err != nil {
		return sessionCall("availability", err) // still owed: read again
	}
	w.statusOwed = false
	w.mu.Lock()
	stale := gen != w.statusGen // SetAvailability ran meanwhile and said it
	if !stale {
		w.noteStatus(st.Chat, causeService)
	}
	want := w.wanted
	w.mu.Unlock()
	if want == "" && w.cfg.Agent.GoOnline {
		want = lpchat.Online // what startupStatus set
	}
	if stale || !w.cfg.Agent.RestoreAvailability || want == "" || st.Chat == want || st.Chat == "" ||
		time.Since(w.lastRestore) < w.cfg.RestoreMinGap {
		return nil
	}
	return w.restoreStatus(ctx, as, want)
}

// restoreStatus sets the availability the bridge wants again.
func (w *Worker) restoreStatus(ctx context.Context, as *lpchat.AgentSession, want lpchat.Availability) error {
	w.lastRestore = time.Now()
	w.mu.Lock()
	w.statusGen++
	w.mu.Unlock()
	st, err := as.SetAvailability(ctx, want)
	if err != nil {
		return sessionCall("restore availability", err)
	}
	w.log.Info("availability restored after the service changed it", "status", st.Chat)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.statusGen++
	w.noteStatus(st.Chat, causeRestore)
	return nil
}

// defaultAcceptedBy is the acceptedBy of a chat whose taking went unrecorded.
func (w *Worker) defaultAcceptedBy() string {
	if w.cfg.Agent.AutoAccept {
		return acceptedByAuto
	}
	return acceptedByCommand
}
