package lpconformance

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/testwait"
)

// testTransfer: §5.19. With a second agent Online, GET transfer lists the
// skill (one or many, with id and name); POST transfer to it is 200 and
// the chat rings at the second agent, who accepts it.
func testTransfer(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.online(tg.Agent)
	id, chat := e.ringAndAccept(s, visitorName)
	s2 := e.online(tg.SecondAgent)

	a := want(t, s.c.get(chat+"/transfer"), http.StatusOK)
	var skill node
	for _, sk := range a.doc.key("transfer").key("skill").items() {
		mustText(t, sk.key("name", "@name"))
		if v, _ := sk.key("id", "@id").number(); strconv.FormatInt(v, 10) == tg.SkillID {
			skill = sk
		}
	}
	if !skill.present() {
		t.Fatalf("%s: want skill %s, which the Online second agent has (§5.19)", a, tg.SkillID)
	}
	var skillID any = tg.SkillID
	if n, err := strconv.ParseInt(tg.SkillID, 10, 64); err == nil {
		skillID = n // the reference's example sends a number
	}
	body := map[string]any{"transfer": map[string]any{"skill": map[string]any{"id": skillID},
		"text": "from the conformance suite"}}
	want(t, s.c.post(chat+"/transfer", body), http.StatusOK)

	s2.waitRinging(tg, 1)
	if got := lastSegment(s2.accept()); got != id {
		t.Fatalf("the second agent accepted %s, want the transferred chat %s", got, id)
	}
}

// testAgentEnds: §5.15. The end is 201 with chatLocation …/events/{n}; the
// chat stays readable with state ended; a later line fails (its status is
// SILENT, so any non-2xx passes).
func testAgentEnds(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.online(tg.Agent)
	_, chat := e.ringAndAccept(s, visitorName)
	end := map[string]any{"event": map[string]string{"@type": "state", "state": "ended"}}
	a := want(t, s.c.post(chat+"/events", end), http.StatusCreated)
	if loc := location(t, a, "chatLocation"); !strings.HasPrefix(loc, chat+"/events/") {
		t.Errorf("end location %s: want %s/events/{n} (§5.15)", loc, chat)
	}
	doc := want(t, s.c.get(chat), http.StatusOK).doc.key("chat")
	mustOneOf(t, doc.key("info").key("state"), "ended")
	if st := lastState(events(t, doc.key("events").key("event"))); st != "ended" {
		t.Errorf("%s: last state %q, want ended (§6.3)", doc.key("events"), st)
	}
	if a := s.c.post(chat+"/events", lineBody(agentText)); a.status/100 == 2 {
		t.Errorf("%s; want a line to an ended chat refused (§5.15)", a)
	}
}

// testVisitorLeaves: the visitor's leaving shows as a state ended event
// and in the chat info.
func testVisitorLeaves(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.online(tg.Agent)
	id, chat := e.ringAndAccept(s, visitorName)
	if err := tg.Visitor.End(t.Context(), id); err != nil {
		t.Fatalf("visitor: %v", err)
	}
	testwait.True(t, tg.WaitTimeout, "state ended in the chat's events and info", func() bool {
		doc := want(t, s.c.get(chat), http.StatusOK).doc.key("chat")
		st, _ := doc.key("info").key("state").text()
		return st == "ended" && lastState(events(t, doc.key("events").key("event"))) == "ended"
	})
}

// testChatSessions: §5.10 lists the chats the agent holds, each with a
// chat-session link ("href" on that page, "@href" elsewhere: both pass),
// its chatSessionKey and startTime in epoch milliseconds (§2.3 rule 6).
func testChatSessions(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.online(tg.Agent)
	id, chat := e.ringAndAccept(s, visitorName)
	a := want(t, s.c.get(s.url+"/chatSessions"), http.StatusOK)
	for _, cs := range a.doc.key("chatSessions").key("chatSession").items() {
		if k, _ := cs.key("chatSessionKey").text(); k != id {
			continue
		}
		if got := rel(t, links(t, cs.key("link")), "chat-session"); got != chat {
			t.Errorf("%s: chat-session link %s, want %s", cs.path, got, chat)
		}
		if ms := mustNumber(t, cs.key("startTime")); ms < minEpochMillis {
			t.Errorf("%s: startTime %d is not epoch milliseconds", cs.path, ms)
		}
		return
	}
	t.Fatalf("%s; want the accepted chat %s listed (§5.10)", a, id)
}

// minEpochMillis is 2001-09-09 in epoch milliseconds: any smaller
// startTime is in seconds or not a time at all.
const minEpochMillis = 1_000_000_000_000
