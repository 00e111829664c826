package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
)

// observed is one delivery of the chaos run's event consumer: a stream
// message of LP_EVENTS, decoded.
type observed struct {
	streamSeq uint64    // the message's stream sequence
	stored    time.Time // when the stream stored it (the server's clock)
	id        string    // CloudEvent id (= Nats-Msg-Id)
	typ       events.Type
	chat      string
	agent     string
	seq       int64 // the seq extension: per-chat order
	data      any   // the Data struct of typ, as events.FromCloudEvent gives it
}

// ledger holds what the visitors posted, what the bots sent and what the
// consumer saw, and judges it at the end (summarize). It dedupes nothing
// itself before counting: a CloudEvent id delivered at two stream
// sequences is a duplicate a plain consumer would have processed twice.
// It is safe for concurrent use.
type ledger struct {
	mu sync.Mutex

	chats  map[string]*chatLedger
	byText map[string]*postedLine // visitor line text → the line

	ids        map[string]uint64 // CloudEvent id → stream sequence first seen
	streamSeqs map[uint64]bool
	deliveries int
	redelivery int // the same stream sequence delivered again (consumer restarts)
	dupIDs     int // a CloudEvent id stored at a second stream sequence
	dupTexts   int // a visitor line stored again under another id
	lineEvents int // unique line events (every source)
	lastEvent  time.Time

	cmds     map[string]*command
	rerouted int
	// postedBeforeMove: commands that failed with chat_not_found whose
	// line was in the chat's history, so not sent again.
	postedBeforeMove int
}

// chatLedger is one visitor chat.
type chatLedger struct {
	id string
	// agent holds it: of the agents whose chat.accepted has no
	// chat.transferred after it, the last to accept; else the last to
	// accept at all; else the agent of its last line event. Not simply the
	// last line's: an old agent's last read of the chat (its part up to the
	// move) may come after the new agent's first events; and not simply the
	// last to accept: an old agent's accept may be published late (its
	// bridge killed first), after the new agent's.
	agent    string
	accepted bool           // a chat.accepted event set agent
	holding  map[string]int // agent → order of its chat.accepted, until its chat.transferred
	accepts  int            // chat.accepted events seen
	posted   []string       // visitor texts, in the order posted
	ended    bool
	// endedQueued: it ended while waiting in the queue (its agent session
	// reaped, no agent took it yet): no agent saw it end, so no transcript
	// is owed.
	endedQueued bool
	violations  int
	seen        map[string]int  // visitor text → unique events with it, under any agent
	answers     map[string]bool // agent line texts seen, under any agent
	// streams are the chat's events under each agent that held it: a chat
	// the simulator requeued to another agent (its agent session was
	// reaped) is published again, whole, under the new agent's ids.
	streams map[string]*agentStream
	// transcripts holds the visitor texts of each transcript event.
	transcripts []transcript
}

// agentStream is the order of one chat's lines under one agent.
type agentStream struct {
	lastSeq    int64
	lastLineID int
	seen       map[string]bool // visitor texts
}

// postedLine is one visitor line posted through the simulator.
type postedLine struct {
	chat   string
	at     time.Time // just before the POST
	stored time.Time // when its event was stored; zero until seen
	agent  string
}

// transcript is one chat.transcript event seen.
type transcript struct {
	agent, id string
	visitor   []string // its visitor lines' texts
}

// command is one chat.send a bot sent.
type command struct {
	id, chat, agent, text string
	durable               bool
	ok                    bool
	lastErr               string // code of the last failure seen
	// superseded: it failed with chat_not_found (the chat was requeued to
	// another agent) and was sent again, under a new id, to the chat's
	// agent.
	superseded bool
	// failed: the bridge published its final outcome, a failure (a
	// durable command's tries used up, or a code not worth a retry).
	failed bool
}

// awaitsReroute: c failed because its chat left its agent, and is about to
// be sent again to the chat's new agent (rerouteLater). Until then its
// chat is not settled: the visitor must not end it under the new command.
func (c *command) awaitsReroute() bool {
	return !c.ok && !c.superseded && c.lastErr == "chat_not_found"
}

func newLedger() *ledger {
	return &ledger{
		chats: map[string]*chatLedger{}, byText: map[string]*postedLine{},
		ids: map[string]uint64{}, streamSeqs: map[uint64]bool{}, cmds: map[string]*command{},
	}
}

func (l *ledger) chat(id string) *chatLedger {
	c := l.chats[id]
	if c == nil {
		c = &chatLedger{id: id, seen: map[string]int{}, answers: map[string]bool{}, streams: map[string]*agentStream{}, holding: map[string]int{}}
		l.chats[id] = c
	}
	return c
}

// holder is the agent of holding whose chat.accepted came last, or
// fallback when no agent holds the chat by its events.
func (c *chatLedger) holder(fallback string) string {
	best, order := fallback, 0
	for a, n := range c.holding {
		if n > order {
			best, order = a, n
		}
	}
	return best
}

// chatOpened records a visitor chat.
func (l *ledger) chatOpened(chat string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.chat(chat)
}

// posting records a visitor line about to be posted; unpost takes it back
// when the post failed.
func (l *ledger) posting(chat, text string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.chat(chat)
	c.posted = append(c.posted, text)
	l.byText[text] = &postedLine{chat: chat, at: at}
}

func (l *ledger) unpost(chat, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.chat(chat)
	if i := slices.Index(c.posted, text); i >= 0 {
		c.posted = slices.Delete(c.posted, i, i+1)
	}
	delete(l.byText, text)
}

// ended records that the visitor ended the chat; queued: while it waited
// in the queue for an agent.
func (l *ledger) ended(chat string, queued bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.chat(chat)
	c.ended, c.endedQueued = true, queued
}

// commandSent records a chat.send before it is first sent.
func (l *ledger) commandSent(c command) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cmds[c.id] == nil {
		l.cmds[c.id] = &c
	}
}

// reroute supersedes command id when it failed with chat_not_found, and
// returns the command to send instead: the same text under a new id to
// the agent that holds the chat now (the one whose events came last).
// When the chat's history (as its new agent published it) already holds
// the command's line, an earlier try posted it before the chat moved: the
// command is done, and sending it again would post it twice. That is what
// a bot must check too, as the bridge cannot (the old agent may no longer
// read the chat). While no other agent's events of the chat came yet (the
// chat waits for its new agent) and patient, it answers wait; impatient,
// it sends to the agent it knows, as the chat may have come back to the
// same agent under a new agent session.
func (l *ledger) reroute(id string, patient bool) (next command, posted, wait, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.cmds[id]
	if c == nil || c.ok || c.superseded || c.lastErr != "chat_not_found" {
		return command{}, false, false, false
	}
	if patient && l.chat(c.chat).agent == c.agent {
		return command{}, false, true, false
	}
	if l.chat(c.chat).answers[c.text] {
		c.ok = true
		l.postedBeforeMove++
		return command{}, true, false, true
	}
	c.superseded = true
	n := command{id: fmt.Sprintf("%s~%d", c.id, l.rerouted), chat: c.chat, agent: l.chat(c.chat).agent, text: c.text, durable: c.durable}
	l.rerouted++
	l.cmds[n.id] = &n
	return n, false, false, true
}

// commandOutcome records a reply or command.result of command id.
func (l *ledger) commandOutcome(id string, ok bool, code string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.cmds[id]
	if c == nil {
		return
	}
	if ok {
		c.ok = true
	} else {
		c.lastErr = code
	}
}

// settled reports whether every visitor line of chat was seen and every
// bot answer to them succeeded or failed for good.
func (l *ledger) settled(chat string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.chat(chat)
	for _, t := range c.posted {
		if c.seen[t] == 0 {
			return false
		}
	}
	answers := 0
	for _, cmd := range l.cmds {
		if cmd.chat != chat || cmd.superseded {
			continue
		}
		if !cmd.ok && (!cmd.failed || cmd.awaitsReroute()) {
			return false
		}
		answers++
	}
	return answers >= len(c.posted)
}

// event records one delivery and returns the visitor line it carried for
// the first time ("" otherwise): the line a bot answers.
func (l *ledger) event(o observed) (visitorLine string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deliveries++
	if l.streamSeqs[o.streamSeq] {
		l.redelivery++
		return ""
	}
	l.streamSeqs[o.streamSeq] = true
	l.lastEvent = time.Now()
	if _, dup := l.ids[o.id]; dup {
		l.dupIDs++
		return ""
	}
	l.ids[o.id] = o.streamSeq
	switch d := o.data.(type) {
	case events.LineData:
		return l.line(o, d)
	case events.AcceptedData:
		c := l.chat(o.chat)
		c.accepts++
		c.holding[o.agent] = c.accepts
		c.agent, c.accepted = c.holder(o.agent), true
	case events.TransferredData:
		c := l.chat(o.chat)
		delete(c.holding, o.agent)
		c.agent = c.holder(c.agent)
	case events.TranscriptData:
		var texts []string
		for _, ln := range d.Lines {
			if ln.Source == "visitor" {
				texts = append(texts, ln.Text)
			}
		}
		c := l.chat(o.chat)
		c.transcripts = append(c.transcripts, transcript{agent: o.agent, id: o.id, visitor: texts})
	case events.CommandResultData:
		code := ""
		if d.Error != nil {
			code = d.Error.Code
		}
		if c := l.cmds[d.CommandID]; c != nil {
			if d.OK {
				c.ok = true
			} else {
				c.lastErr = code
				// A final outcome's event id is the command's alone; a
				// transient failure's names its attempt (commands.publishResult).
				c.failed = c.failed || !strings.Contains(o.id, "/attempt-")
			}
		}
	}
	return ""
}

func (l *ledger) line(o observed, d events.LineData) string {
	l.lineEvents++
	c := l.chat(o.chat)
	if !c.accepted {
		c.agent = o.agent
	}
	st := c.streams[o.agent]
	if st == nil {
		st = &agentStream{seen: map[string]bool{}}
		c.streams[o.agent] = st
	}
	if (st.lastSeq != 0 && o.seq <= st.lastSeq) || d.EventID <= st.lastLineID {
		c.violations++
	}
	st.lastSeq, st.lastLineID = max(st.lastSeq, o.seq), max(st.lastLineID, d.EventID)
	if d.Source == "agent" {
		c.answers[d.Text] = true
	}
	if d.Source != "visitor" {
		return ""
	}
	if st.seen[d.Text] {
		l.dupTexts++
		return ""
	}
	st.seen[d.Text] = true
	c.seen[d.Text]++
	if c.seen[d.Text] > 1 {
		return "" // the chat again under its new agent: answered already
	}
	if p := l.byText[d.Text]; p != nil {
		p.stored, p.agent = o.stored, o.agent
	}
	return d.Text
}

// quiet is how long ago the last new event was seen.
func (l *ledger) quiet() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Since(l.lastEvent)
}

// pending is what the run still waits for before it is quiescent: chats
// not ended, ended chats without a transcript, commands without a final
// outcome.
func (l *ledger) pending() (openChats, noTranscript, unanswered int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.chats {
		switch {
		case !c.ended:
			openChats++
		case len(c.transcripts) == 0 && !c.endedQueued:
			noTranscript++
		}
	}
	for _, c := range l.cmds {
		if !c.ok && !c.superseded && (!c.failed || c.awaitsReroute()) {
			unanswered++
		}
	}
	return openChats, noTranscript, unanswered
}

// chatIDs lists the chats.
func (l *ledger) chatIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]string, 0, len(l.chats))
	for id := range l.chats {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// lineTimes are the visitor lines seen, as (agent, posted, stored), for
// the recovery times after faults.
func (l *ledger) lineTimes() []lineTime {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []lineTime
	for _, p := range l.byText {
		if !p.stored.IsZero() {
			out = append(out, lineTime{agent: p.agent, posted: p.at, stored: p.stored})
		}
	}
	return out
}

// lineTime is one visitor line: when it was posted and when its event was
// stored.
type lineTime struct {
	agent          string
	posted, stored time.Time
}

// summary is the verdict's figures.
type summary struct {
	posted           int // visitor lines posted
	lineEvents       int // unique line events (visitor, agent, system)
	visitorSeen      int // posted visitor lines seen at least once
	missing          int // posted visitor lines never seen
	dupIDs           int // CloudEvent ids stored twice
	dupTexts         int // visitor lines stored again under another id
	redelivered      int // deliveries of a stream sequence already seen (not a duplicate)
	deliveries       int
	orderViolation   int
	chats            int
	chatsEnded       int
	transcripts      int // ended chats with exactly one transcript
	trMissing        int // ended chats without one
	trDoubled        int // chats with more than one
	trIncomplete     int // transcripts whose visitor lines are not exactly the posted ones
	cmdsSent         int
	cmdsDurable      int
	cmdsOK           int
	cmdsRerouted     int            // failed with chat_not_found, sent again to the chat's new agent
	postedBeforeMove int            // failed with chat_not_found, their line already in the chat's history
	doubledPosts     int            // agent lines posted twice at the simulator
	missingPosts     int            // commands answered ok whose line the simulator lacks
	deadLetters      []string       // each dead letter, described
	failedCodes      map[string]int // last error code of commands never answered ok
	endedQueued      int            // ended chats without a transcript that ended waiting in the queue
	doubledChats     []string       // each chat with several transcripts, and their agents
	doubledTexts     []string       // each agent line posted twice, and the commands of its text
}

// commandsOf names the commands that sent text, with their agent.
func (l *ledger) commandsOf(text string) []string {
	var out []string
	for _, c := range l.cmds {
		if c.text == text {
			out = append(out, c.id+" to "+c.agent)
		}
	}
	slices.Sort(out)
	return out
}

// doubledNote names chat c and the agent and id of each of its transcripts.
func doubledNote(c *chatLedger) string {
	parts := make([]string, len(c.transcripts))
	for i, tr := range c.transcripts {
		parts[i] = tr.agent + " " + tr.id
	}
	return c.id + ": " + strings.Join(parts, ", ")
}

// summarize judges the run. simChats are the chats as the simulator holds
// them; deadLetters the messages of the DLQ stream, described.
func (l *ledger) summarize(simChats map[string]simChat, deadLetters []string) summary {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := summary{
		lineEvents: l.lineEvents, dupIDs: l.dupIDs, dupTexts: l.dupTexts, redelivered: l.redelivery,
		deliveries: l.deliveries, postedBeforeMove: l.postedBeforeMove, deadLetters: deadLetters, chats: len(l.chats), failedCodes: map[string]int{},
	}
	for _, c := range l.chats {
		s.posted += len(c.posted)
		for _, t := range c.posted {
			if c.seen[t] > 0 {
				s.visitorSeen++
			} else {
				s.missing++
			}
		}
		s.orderViolation += c.violations
		if !c.ended {
			continue
		}
		s.chatsEnded++
		switch n := len(c.transcripts); {
		case n == 0 && c.endedQueued:
			s.endedQueued++
		case n == 0:
			s.trMissing++
		case n > 1:
			s.trDoubled++
			s.doubledChats = append(s.doubledChats, doubledNote(c))
		default:
			s.transcripts++
		}
		for _, tr := range c.transcripts {
			if !slices.Equal(tr.visitor, c.posted) {
				s.trIncomplete++
			}
		}
	}
	counts := map[string]int{}
	posts := map[string][]string{} // text → where the simulator holds it
	for id, c := range simChats {
		for i, t := range c.agentLines {
			counts[t]++
			if i < len(c.agentAt) {
				posts[t] = append(posts[t], "chat "+id+" "+c.agentAt[i])
			}
		}
	}
	for t, n := range counts {
		if n > 1 {
			s.doubledPosts += n - 1
			s.doubledTexts = append(s.doubledTexts, fmt.Sprintf("%q ×%d (%s; commands %s)", t, n,
				strings.Join(posts[t], ", "), strings.Join(l.commandsOf(t), ", ")))
		}
	}
	for _, c := range l.cmds {
		if c.superseded {
			s.cmdsRerouted++
			continue
		}
		s.cmdsSent++
		if c.durable {
			s.cmdsDurable++
		}
		if !c.ok {
			code := c.lastErr
			if code == "" {
				code = "no answer"
			}
			s.failedCodes[code]++
			continue
		}
		s.cmdsOK++
		if counts[c.text] == 0 {
			s.missingPosts++
		}
	}
	return s
}

// failures names everything that makes the run fail: anything lost,
// doubled or out of order.
func (s summary) failures() []string {
	var out []string
	add := func(n int, what string) {
		if n > 0 {
			out = append(out, fmt.Sprintf("%s: %d", what, n))
		}
	}
	add(s.missing, "visitor lines lost")
	add(s.dupIDs, "events stored twice (same CloudEvent id)")
	add(s.dupTexts, "visitor lines stored twice (another id)")
	add(s.orderViolation, "lines out of order")
	add(s.trMissing, "ended chats without a transcript")
	add(s.trDoubled, "chats with several transcripts")
	add(s.trIncomplete, "incomplete transcripts")
	add(s.cmdsSent-s.cmdsOK, "commands never answered ok")
	add(s.doubledPosts, "doubled posts at the simulator")
	add(s.missingPosts, "commands answered ok without their line at the simulator")
	add(len(s.deadLetters), "dead letters")
	add(s.chats-s.chatsEnded, "chats never ended")
	return out
}
