package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// fixture is a small scene: one chat whose visitor posts lines, and the
// events a consumer would see, built one by one.
type fixture struct {
	l     *ledger
	seq   uint64
	chat  string
	agent string // of the events delivered
	t0    time.Time
}

func newFixture(t *testing.T, lines int) *fixture {
	t.Helper()
	f := &fixture{l: newLedger(), chat: "C1", agent: "bot_one", t0: time.Unix(1000, 0)}
	f.l.chatOpened(f.chat)
	for n := 1; n <= lines; n++ {
		f.l.posting(f.chat, text(n), f.t0.Add(time.Duration(n)*time.Second))
	}
	return f
}

func text(n int) string { return fmt.Sprintf(visitorFormat, 0, n) }

// deliver hands the ledger a line event of the chat at the next stream
// sequence; it returns what the bot would answer.
func (f *fixture) deliver(id string, seq int64, eventID int, source, txt string) string {
	f.seq++
	return f.deliverAt(f.seq, id, seq, eventID, source, txt)
}

func (f *fixture) deliverAt(streamSeq uint64, id string, seq int64, eventID int, source, txt string) string {
	return f.l.event(observed{streamSeq: streamSeq, stored: f.t0.Add(time.Duration(streamSeq) * time.Second), id: id,
		typ: events.ChatLine, chat: f.chat, agent: f.agent, seq: seq,
		data: events.LineData{EventID: eventID, Text: txt, Source: source}})
}

// visitorLine delivers visitor line n with its natural ids.
func (f *fixture) visitorLine(n int) string {
	return f.deliver(fmt.Sprintf("C1/%d", n), int64(n), n, "visitor", text(n))
}

// finish answers every line, ends the chat and delivers a transcript of
// the given visitor lines.
func (f *fixture) finish(trLines ...int) {
	for n := range len(f.l.chat(f.chat).posted) {
		id := fmt.Sprintf("cmd-%d", n+1)
		f.l.commandSent(command{id: id, chat: f.chat, agent: f.agent, text: "answer " + id, durable: n%2 == 0})
		f.l.commandOutcome(id, true, "")
	}
	f.l.ended(f.chat, false)
	var tr events.TranscriptData
	for _, n := range trLines {
		tr.Lines = append(tr.Lines, events.LineData{EventID: n, Text: text(n), Source: "visitor"})
	}
	f.seq++
	f.l.event(observed{streamSeq: f.seq, id: "C1/transcript", typ: events.ChatTranscript, chat: f.chat, data: tr})
}

// simLines are the simulator's agent lines: every answer once.
func (f *fixture) simLines() map[string][]string {
	var lines []string
	for n := range len(f.l.chat(f.chat).posted) {
		lines = append(lines, fmt.Sprintf("answer cmd-%d", n+1))
	}
	return map[string][]string{f.chat: lines}
}

// asSimChats is the simulator's view of chats with these agent lines.
func asSimChats(lines map[string][]string) map[string]simChat {
	out := map[string]simChat{}
	for chat, ls := range lines {
		out[chat] = simChat{agentLines: ls}
	}
	return out
}

func TestVerdictCleanRun(t *testing.T) {
	f := newFixture(t, 3)
	for n := 1; n <= 3; n++ {
		if got := f.visitorLine(n); got != text(n) {
			t.Errorf("line %d: the bot is handed %q, want %q", n, got, text(n))
		}
	}
	// An agent line between (the bot's answer) is a line event too.
	f.deliver("C1/4", 4, 4, "agent", "answer cmd-1")
	f.finish(1, 2, 3)
	s := f.l.summarize(asSimChats(f.simLines()), nil)
	if fails := s.failures(); len(fails) > 0 {
		t.Fatalf("clean run judged failed: %v", fails)
	}
	if s.posted != 3 || s.visitorSeen != 3 || s.lineEvents != 4 || s.transcripts != 1 || s.cmdsOK != 3 || s.cmdsDurable != 2 {
		t.Errorf("summary %+v", s)
	}
}

func TestVerdictLostLine(t *testing.T) {
	f := newFixture(t, 3)
	f.visitorLine(1)
	f.visitorLine(3)
	f.finish(1, 3)
	s := f.l.summarize(asSimChats(f.simLines()), nil)
	if s.missing != 1 || s.trIncomplete != 1 {
		t.Errorf("missing %d, incomplete transcripts %d; want 1 and 1", s.missing, s.trIncomplete)
	}
	wantFailure(t, s, "visitor lines lost: 1")
}

func TestVerdictDuplicates(t *testing.T) {
	f := newFixture(t, 2)
	f.visitorLine(1)
	// The same CloudEvent id stored again at a new stream sequence: a
	// consumer that does not dedupe processes it twice.
	if got := f.deliver("C1/1", 1, 1, "visitor", text(1)); got != "" {
		t.Errorf("a duplicate is handed to the bot: %q", got)
	}
	// A redelivery of a stream sequence already seen is no duplicate.
	if got := f.deliverAt(1, "C1/1", 1, 1, "visitor", text(1)); got != "" {
		t.Errorf("a redelivery is handed to the bot: %q", got)
	}
	f.visitorLine(2)
	// The same visitor line under another id (published twice).
	f.deliver("C1/2-again", 3, 3, "visitor", text(2))
	f.finish(1, 2)
	s := f.l.summarize(asSimChats(f.simLines()), nil)
	if s.dupIDs != 1 || s.dupTexts != 1 || s.redelivered != 1 || s.deliveries != 6 {
		t.Errorf("dupIDs %d, dupTexts %d, redelivered %d, deliveries %d; want 1, 1, 1, 6", s.dupIDs, s.dupTexts, s.redelivered, s.deliveries)
	}
	wantFailure(t, s, "events stored twice (same CloudEvent id): 1")
	wantFailure(t, s, "visitor lines stored twice (another id): 1")
}

func TestVerdictOutOfOrder(t *testing.T) {
	f := newFixture(t, 3)
	f.visitorLine(1)
	f.visitorLine(3)
	f.visitorLine(2) // seq and event id go back
	f.finish(1, 2, 3)
	s := f.l.summarize(asSimChats(f.simLines()), nil)
	if s.orderViolation != 1 || s.missing != 0 {
		t.Errorf("order violations %d, missing %d; want 1, 0", s.orderViolation, s.missing)
	}
	wantFailure(t, s, "lines out of order: 1")
}

func TestVerdictRequeuedChat(t *testing.T) {
	f := newFixture(t, 2)
	f.visitorLine(1)
	// The simulator requeued the chat to another agent, whose bridge
	// publishes it whole under that agent's ids: no duplicate, no
	// disorder, and the bot answers nothing twice.
	f.agent = "bot_two"
	if got := f.deliver("two/C1/1", 1, 1, "visitor", text(1)); got != "" {
		t.Errorf("the requeued chat's old line is handed to the bot again: %q", got)
	}
	if got := f.visitorLine(2); got != text(2) {
		t.Errorf("line 2 under the new agent: the bot is handed %q", got)
	}
	f.finish(1, 2)
	// An answer sent to the old agent fails with chat_not_found: sent
	// again under a new id to the chat's new agent, the old one no longer
	// counts.
	f.l.commandSent(command{id: "late", chat: f.chat, agent: "bot_one", text: "answer late"})
	f.l.commandOutcome("late", false, "chat_not_found")
	n, posted, _, ok := f.l.reroute("late", true)
	if !ok || posted || n.agent != "bot_two" || n.text != "answer late" || n.id == "late" {
		t.Fatalf("reroute = %+v, %v; want the same text under a new id to bot_two", n, ok)
	}
	if _, _, _, again := f.l.reroute("late", true); again {
		t.Error("a command rerouted twice")
	}
	f.l.commandOutcome(n.id, true, "")
	sim := f.simLines()
	sim[f.chat] = append(sim[f.chat], "answer late")
	s := f.l.summarize(asSimChats(sim), nil)
	if fails := s.failures(); len(fails) > 0 || s.cmdsRerouted != 1 {
		t.Errorf("requeued chat judged failed: %v (rerouted %d, want 1)", fails, s.cmdsRerouted)
	}
}

func TestVerdictDoubledPostAndCommands(t *testing.T) {
	f := newFixture(t, 2)
	f.visitorLine(1)
	f.visitorLine(2)
	f.finish(1, 2)
	f.l.commandSent(command{id: "cmd-3", chat: f.chat, agent: f.agent, text: "answer cmd-3", durable: true})
	f.l.commandOutcome("cmd-3", false, "upstream_error")
	sim := f.simLines()
	sim[f.chat] = append(sim[f.chat], "answer cmd-1") // posted twice
	s := f.l.summarize(asSimChats(sim), []string{"dead letter 1", "dead letter 2"})
	if s.doubledPosts != 1 || s.cmdsSent != 3 || s.cmdsOK != 2 || s.failedCodes["upstream_error"] != 1 || len(s.deadLetters) != 2 {
		t.Errorf("summary %+v", s)
	}
	wantFailure(t, s, "doubled posts at the simulator: 1")
	wantFailure(t, s, "commands never answered ok: 1")
	wantFailure(t, s, "dead letters: 2")
}

func TestVerdictTranscripts(t *testing.T) {
	f := newFixture(t, 1)
	f.visitorLine(1)
	f.finish(1)
	f.seq++
	f.l.event(observed{streamSeq: f.seq, id: "C1/transcript-2", typ: events.ChatTranscript, chat: f.chat,
		data: events.TranscriptData{Lines: []events.LineData{{EventID: 1, Text: text(1), Source: "visitor"}}}})
	f.l.chatOpened("C2")
	f.l.ended("C2", false)
	s := f.l.summarize(asSimChats(f.simLines()), nil)
	if s.trDoubled != 1 || s.trMissing != 1 || s.transcripts != 0 {
		t.Errorf("transcripts: doubled %d, missing %d, one %d; want 1, 1, 0", s.trDoubled, s.trMissing, s.transcripts)
	}
	wantFailure(t, s, "chats with several transcripts: 1")
	wantFailure(t, s, "ended chats without a transcript: 1")
}

func wantFailure(t *testing.T, s summary, want string) {
	t.Helper()
	if fails := s.failures(); !slices.Contains(fails, want) {
		t.Errorf("failures %q; want %q among them", fails, want)
	}
}

func TestRecoveries(t *testing.T) {
	t0 := time.Unix(2000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	lines := []lineTime{
		{agent: "a", posted: at(1), stored: at(1.1)},
		{agent: "a", posted: at(5), stored: at(9)}, // stuck until the takeover
		{agent: "b", posted: at(6), stored: at(6.2)},
		{agent: "a", posted: at(20), stored: at(20.1)},
	}
	faults := []faultRec{
		{kind: faultBridgeKill, at: at(4), agents: []string{"a"}},
		{kind: faultBridgeKill, at: at(10), agents: nil},             // a standby: not measured
		{kind: faultNATSKill, at: at(4), agents: []string{"a", "b"}}, // the slowest agent counts
		{kind: faultNATSKill, at: at(30), agents: []string{"a"}},     // no line after it
	}
	got := recoveries(faults, lines)
	if r := got[faultBridgeKill]; r.count != 2 || !slices.Equal(r.measured, []time.Duration{5 * time.Second}) {
		t.Errorf("bridge kills: %+v", r)
	}
	if r := got[faultNATSKill]; r.count != 2 || !slices.Equal(r.measured, []time.Duration{5 * time.Second}) {
		t.Errorf("NATS kills: %+v", r)
	}
	if p50, worst := p50Max([]time.Duration{3, 1, 2}); p50 != 2 || worst != 3 {
		t.Errorf("p50Max = %v, %v; want 2, 3", p50, worst)
	}
}

func TestOwnerGaps(t *testing.T) {
	o := newOwners()
	t0 := time.Unix(3000, 0)
	o.sample("a", noOwner, t0) // before the first owner: start-up, not a gap
	o.sample("a", 0, t0.Add(time.Second))
	o.sample("a", 0, t0.Add(2*time.Second))
	o.sample("a", noOwner, t0.Add(3*time.Second))
	o.sample("a", 1, t0.Add(9*time.Second))
	o.sample("b", 1, t0.Add(9*time.Second))
	o.sample("b", noOwner, t0.Add(12*time.Second)) // still without owner at the end
	if g := o.gaps(); g["a"] != 7*time.Second || g["b"] != 3*time.Second {
		t.Errorf("gaps %v; want a 7s, b 3s", g)
	}
	if got := o.agentsOf(1); !slices.Equal(got, []string{"a"}) {
		t.Errorf("agentsOf(1) = %v", got)
	}
	if pid := ownerPID("host-name-4242-0a1b2c3d"); pid != 4242 {
		t.Errorf("ownerPID = %d, want 4242", pid)
	}
}

func TestTableVerdict(t *testing.T) {
	f := newFixture(t, 2)
	f.visitorLine(1)
	f.finish(1)
	var buf bytes.Buffer
	dl := "lp.cmd.durable.55500011.bot_one.chat.send id c-1 after 6 tries: timeout: given up after 6 tries"
	printTable(&buf, report{duration: time.Minute, quiescent: true, sum: f.l.summarize(asSimChats(f.simLines()), []string{dl}),
		recoveries: map[string]*recovery{faultBridgeKill: {count: 2, measured: []time.Duration{time.Second, 3 * time.Second}}},
		gaps:       map[string]time.Duration{"bot_one": 7 * time.Second}})
	out := buf.String()
	for _, want := range []string{"| visitor lines seen / missing | 1 / 1 |", "| bridge SIGKILL ×2: events flow again p50 / max (2 measured) | 1s / 3s |",
		"bot_one 7s", "chaos: FAILED: visitor lines lost: 1", "| dead letters | 1 |", "chaos: dead letter: " + dl} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestPendingCommands(t *testing.T) {
	l := newLedger()
	for _, id := range []string{"a", "b"} {
		l.commandSent(command{id: id, chat: "C1", agent: "bot_one", text: "answer " + id, durable: true})
	}
	result := func(seq uint64, evID, cmdID string) {
		l.event(observed{streamSeq: seq, id: evID, typ: events.CommandResult,
			data: events.CommandResultData{CommandID: cmdID, Error: &events.CommandError{Code: "session_lost"}}})
	}
	result(1, "55500011/bot_one/a/attempt-1/command.result", "a") // a transient failure: retried
	result(2, "55500011/bot_one/b/command.result", "b")           // final: tries used up
	if _, _, unanswered := l.pending(); unanswered != 1 {
		t.Errorf("%d commands pending; want 1 (a is retried, b has failed for good)", unanswered)
	}
	if s := l.summarize(nil, nil); s.cmdsOK != 0 || s.failedCodes["session_lost"] != 2 {
		t.Errorf("summary %+v; want both never answered ok", s)
	}
}

// A command that failed because its chat left its agent keeps the chat
// open until it was sent again to the new agent and answered: otherwise
// the visitor ends the chat under the new command (a bad_request).
func TestChatNotSettledUntilRerouted(t *testing.T) {
	f := newFixture(t, 1)
	f.visitorLine(1)
	f.l.commandSent(command{id: "cmd-1", chat: f.chat, agent: f.agent, text: "answer cmd-1"})
	f.seq++
	f.l.event(observed{streamSeq: f.seq, id: "acct/bot_one/cmd-1/command.result", typ: events.CommandResult, agent: f.agent,
		data: events.CommandResultData{CommandID: "cmd-1", Error: &events.CommandError{Code: "chat_not_found"}}})
	if f.l.settled(f.chat) {
		t.Fatal("settled while the failed command waits to be sent to the chat's new agent")
	}
	if _, _, unanswered := f.l.pending(); unanswered != 1 {
		t.Errorf("unanswered = %d, want 1 (the command awaiting its reroute)", unanswered)
	}
	if _, _, wait, ok := f.l.reroute("cmd-1", true); !wait || ok {
		t.Fatalf("reroute before the chat's new agent published: wait %v, ok %v; want to wait", wait, ok)
	}
	f.l.chat(f.chat).agent = "bot_two"
	next, posted, _, ok := f.l.reroute("cmd-1", true)
	if !ok || posted || next.agent != "bot_two" {
		t.Fatalf("reroute = %+v, %v; want a command to bot_two", next, ok)
	}
	if f.l.settled(f.chat) {
		t.Fatal("settled before the rerouted command was answered")
	}
	f.l.commandOutcome(next.id, true, "")
	if !f.l.settled(f.chat) {
		t.Error("not settled once the rerouted command was answered")
	}
}

// A command whose chat moved after an earlier try posted its line is not
// sent again: the line is in the history the new agent published.
func TestRerouteSkipsALinePostedBeforeTheMove(t *testing.T) {
	f := newFixture(t, 1)
	f.visitorLine(1)
	f.l.commandSent(command{id: "cmd-1", chat: f.chat, agent: f.agent, text: "answer cmd-1"})
	f.agent = "bot_two"
	f.deliver("two/C1/1", 1, 1, "visitor", text(1))
	f.deliver("two/C1/2", 2, 2, "agent", "answer cmd-1") // bot_one's post, in the history
	f.l.commandOutcome("cmd-1", false, "chat_not_found")
	if _, posted, _, ok := f.l.reroute("cmd-1", true); !ok || !posted {
		t.Fatalf("reroute: posted %v, ok %v; want the line found in the history", posted, ok)
	}
	if !f.l.settled(f.chat) {
		t.Error("not settled: the command's line is posted")
	}
	f.l.ended(f.chat, false)
	f.seq++
	f.l.event(observed{streamSeq: f.seq, id: "two/C1/transcript", typ: events.ChatTranscript, chat: f.chat,
		data: events.TranscriptData{Lines: []events.LineData{{EventID: 1, Text: text(1), Source: "visitor"}}}})
	s := f.l.summarize(asSimChats(map[string][]string{f.chat: {"answer cmd-1"}}), nil)
	if fails := s.failures(); len(fails) > 0 || s.postedBeforeMove != 1 || s.cmdsRerouted != 0 {
		t.Errorf("failures %v, posted before the move %d, rerouted %d; want none, 1, 0", fails, s.postedBeforeMove, s.cmdsRerouted)
	}
}

// A chat requeued back to its agent (a new agent session) brings no other
// agent's events: after its waits, the command goes to the agent known.
func TestRerouteImpatientSendsToTheAgentKnown(t *testing.T) {
	f := newFixture(t, 1)
	f.visitorLine(1)
	f.l.commandSent(command{id: "cmd-1", chat: f.chat, agent: f.agent, text: "answer cmd-1"})
	f.l.commandOutcome("cmd-1", false, "chat_not_found")
	next, _, wait, ok := f.l.reroute("cmd-1", false)
	if wait || !ok || next.agent != f.agent || next.id == "cmd-1" {
		t.Fatalf("impatient reroute = %+v, wait %v, ok %v; want a new id to %s", next, wait, ok, f.agent)
	}
}

// A chat that ended while waiting in the queue owes no transcript: no
// agent saw it end. Any other ended chat does.
func TestChatEndedInTheQueueOwesNoTranscript(t *testing.T) {
	f := newFixture(t, 1)
	f.visitorLine(1)
	f.l.commandSent(command{id: "cmd-1", chat: f.chat, agent: f.agent, text: "answer cmd-1"})
	f.l.commandOutcome("cmd-1", true, "")
	f.l.ended(f.chat, true)
	if open, noTranscript, _ := f.l.pending(); open != 0 || noTranscript != 0 {
		t.Errorf("pending: %d open, %d without a transcript; want 0, 0", open, noTranscript)
	}
	s := f.l.summarize(asSimChats(f.simLines()), nil)
	if fails := s.failures(); len(fails) > 0 || s.endedQueued != 1 {
		t.Errorf("failures %v, ended in the queue %d; want none and 1", fails, s.endedQueued)
	}
	f.l.chatOpened("C2")
	f.l.ended("C2", false)
	wantFailure(t, f.l.summarize(asSimChats(f.simLines()), nil), "ended chats without a transcript: 1")
}

func TestSimChatEndedQueued(t *testing.T) {
	st := func(s string) lpsim.EventView { return lpsim.EventView{Type: "state", State: s} }
	agent := lpsim.EventView{Type: "line", Source: "agent", Text: "hi"}
	if c := simChatOf([]lpsim.EventView{st("waiting"), st("chatting"), agent, st("waiting"), st("ended")}); !c.endedQueued || len(c.agentLines) != 1 {
		t.Errorf("requeued then ended: %+v, want ended queued with one agent line", c)
	}
	if c := simChatOf([]lpsim.EventView{st("waiting"), st("chatting"), st("ended")}); c.endedQueued {
		t.Errorf("ended while chatting: %+v, want not queued", c)
	}
}

// The chat's agent is the one that accepted it last: the old agent's last
// read (its part up to the move) may be delivered after the new agent's
// first events, and must not send the answers back to the old agent.
func TestChatAgentIsTheLastToAccept(t *testing.T) {
	f := newFixture(t, 1)
	f.visitorLine(1)
	f.seq++
	f.l.event(observed{streamSeq: f.seq, id: "two/C1/accepted", typ: events.ChatAccepted, chat: f.chat, agent: "bot_two",
		data: events.AcceptedData{ChatID: f.chat, AcceptedBy: events.AcceptedByAuto}})
	f.deliver("C1/9", 9, 9, "system", "The chat was requeued") // bot_one's last read, late
	if got := f.l.chat(f.chat).agent; got != "bot_two" {
		t.Errorf("chat agent %q, want bot_two (the last to accept it)", got)
	}
}

// TestChatAgentIsNotOneThatLeft: an old agent's chat.accepted published
// late (its bridge was killed before it published it) comes after the new
// agent's; once the old agent reports the chat transferred, the new agent
// holds it.
func TestChatAgentIsNotOneThatLeft(t *testing.T) {
	f := newFixture(t, 1)
	f.visitorLine(1)
	f.seq++
	f.l.event(observed{streamSeq: f.seq, id: "two/C1/accepted", typ: events.ChatAccepted, chat: f.chat, agent: "bot_two",
		data: events.AcceptedData{ChatID: f.chat, AcceptedBy: events.AcceptedByAuto}})
	f.seq++
	f.l.event(observed{streamSeq: f.seq, id: "one/C1/accepted-late", typ: events.ChatAccepted, chat: f.chat, agent: f.agent,
		data: events.AcceptedData{ChatID: f.chat, AcceptedBy: events.AcceptedByAuto}})
	if got := f.l.chat(f.chat).agent; got != f.agent {
		t.Fatalf("chat agent %q before the transfer, want %s (the last to accept)", got, f.agent)
	}
	f.seq++
	f.l.event(observed{streamSeq: f.seq, id: "one/C1/transferred", typ: events.ChatTransferred, chat: f.chat, agent: f.agent,
		data: events.TransferredData{Reason: events.TransferReasonAgent}})
	if got := f.l.chat(f.chat).agent; got != "bot_two" {
		t.Errorf("chat agent %q, want bot_two (%s reported the chat transferred)", got, f.agent)
	}
}
