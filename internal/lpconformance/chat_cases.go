package lpconformance

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/testwait"
)

// Visitor names and lines the cases use.
const (
	visitorName = "Conformance Visitor"
	agentText   = "Hello from the conformance suite"
	visitorText = "Hi, a visitor line"
)

// typingValues are §5.18's.
var typingValues = []string{"typing", "not-typing", "unknown"}

// testRingingAndAccept: §5.8 and §5.9. Nothing rings: count 0 and no link;
// a chat rings: count ≥ 1 and one link (a bare object, §2.3 rule 3) to the
// incomingRequests URL; accept is 201 with the chat's location.
func testRingingAndAccept(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.online(tg.Agent)
	n, a := s.ringing()
	if n != 0 || a.doc.key("incomingRequests").key("link").present() {
		t.Fatalf("%s; want ringingCount 0 and no link before any chat", a)
	}
	id := e.startChat(visitorName)
	a = s.waitRinging(tg, 1)
	ring := a.doc.key("incomingRequests").key("link")
	if !ring.isObject() {
		t.Errorf("%s; want one link as a bare object (§2.3 rule 3)", a)
	}
	if ls := links(t, ring); len(ls) != 1 || ls[0].href != s.url+"/incomingRequests" {
		t.Errorf("ringing link %v: want the incomingRequests URL %s (§5.8)", ls, s.url+"/incomingRequests")
	}
	chat := s.accept()
	if lastSegment(chat) != id || !strings.HasPrefix(chat, s.url+"/chat/") {
		t.Errorf("accepted %s: want %s/chat/%s (§5.9)", chat, s.url, id)
	}
	if n, a := s.ringing(); n != 0 {
		t.Errorf("%s; want nothing ringing after the accept", a)
	}
}

// testChatResource: §5.11. The chat's links (an array, §2.3 rule 3), its
// events from 0 (waiting … chatting), both next links with from = last id
// + 1, and its info.
func testChatResource(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.online(tg.Agent)
	id, chat := e.ringAndAccept(s, visitorName)
	a := want(t, s.c.get(chat), http.StatusOK)
	doc := a.doc.key("chat")
	if !doc.key("link").isArray() {
		t.Errorf("%s: want several links as an array (§2.3 rule 3)", doc.key("link").path)
	}
	ls := links(t, doc.key("link"))
	for _, r := range []string{"self", "events", "info", "next", "visit-id", "transfer", "agent-survey"} {
		rel(t, ls, r)
	}
	if got := rel(t, ls, "events"); got != chat+"/events" {
		t.Errorf("events link %s, want %s/events (§2.5)", got, chat)
	}
	if got := rel(t, ls, "info"); got != chat+"/info" {
		t.Errorf("info link %s, want %s/info (§2.5)", got, chat)
	}
	evs := events(t, doc.key("events").key("event"))
	if len(evs) == 0 || evs[0].id != 0 {
		t.Fatalf("%s: want the events from @id 0 (§2.4), got %v", doc.key("events").path, ids(evs))
	}
	if evs[0].typ != "state" || evs[0].field("state") != "waiting" || lastState(evs) != "chatting" {
		t.Errorf("events %s: want state waiting first and chatting last after the accept (§6.3, §6.5)", doc.key("events"))
	}
	next := evs[len(evs)-1].id + 1
	if got := fromOf(t, rel(t, ls, "next")); got != next {
		t.Errorf("chat next link from=%d, want %d (§5.11)", got, next)
	}
	if got := fromOf(t, rel(t, links(t, doc.key("events").key("link")), "next")); got != next {
		t.Errorf("events next link from=%d, want %d (§5.11)", got, next)
	}
	info := doc.key("info")
	mustOneOf(t, info.key("state"), "chatting")
	if key := mustText(t, info.key("chatSessionKey")); key != id {
		t.Logf("chatSessionKey %s differs from the chat id %s (allowed: §2.4 shows them equal only in examples)", key, id)
	}
}

// testLines: §5.13 and §5.14, lines both ways. The agent's line is 201
// with chatEventLocation …/events/{id}; events from that id return it and
// the visitor's, in order; the next link then returns nothing and keeps
// its from; one event alone is a bare object (§2.3 rule 3).
func testLines(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.online(tg.Agent)
	id, chat := e.ringAndAccept(s, visitorName)
	a := want(t, s.c.post(chat+"/events", lineBody(agentText)), http.StatusCreated)
	loc := location(t, a, "chatEventLocation")
	if !strings.HasPrefix(loc, chat+"/events/") {
		t.Fatalf("line location %s: want %s/events/{id} (§5.14)", loc, chat)
	}
	first := mustNumber(t, node{v: lastSegment(loc), path: "chatEventLocation id"})
	if err := tg.Visitor.Line(t.Context(), id, visitorText); err != nil {
		t.Fatalf("visitor: %v", err)
	}

	var evs []event
	var next string
	testwait.Until(t, tg.WaitTimeout, func() error {
		a = want(t, s.c.get(chat+"/events?from="+strconv.FormatInt(first, 10)), http.StatusOK)
		evs = events(t, a.doc.key("events").key("event"))
		next = rel(t, links(t, a.doc.key("events").key("link")), "next")
		if findLine(evs, "visitor", visitorText) < 0 {
			return fmt.Errorf("no visitor line %q yet in %s", visitorText, a)
		}
		return nil
	})
	if len(evs) == 0 || evs[0].id != first {
		t.Fatalf("%s: want the events from %d (from = the first id wanted, §5.13), got %v", a, first, ids(evs))
	}
	if i := findLine(evs, "agent", agentText); i != 0 {
		t.Errorf("%s: want the agent's line first, with source agent (§5.14)", a)
	}
	if findLine(evs, "visitor", visitorText) <= 0 {
		t.Errorf("%s: want the visitor's line after the agent's", a)
	}
	last := evs[len(evs)-1].id
	if got := fromOf(t, next); got != last+1 {
		t.Errorf("next link %s: want from=%d (§5.11)", next, last+1)
	}

	a = want(t, s.c.get(next), http.StatusOK)
	if rest := events(t, a.doc.key("events").key("event")); len(rest) != 0 {
		t.Errorf("%s: want no event when nothing is new (§5.13)", a)
	}
	if got := fromOf(t, rel(t, links(t, a.doc.key("events").key("link")), "next")); got != last+1 {
		t.Errorf("%s: want the next link to keep from=%d", a, last+1)
	}

	a = want(t, s.c.get(chat+"/events?from="+strconv.FormatInt(last, 10)), http.StatusOK)
	if one := a.doc.key("events").key("event"); !one.isObject() {
		t.Errorf("%s: want the one event as a bare object (§2.3 rule 3)", a)
	}
}

func lineBody(text string) map[string]any {
	return map[string]any{"event": map[string]string{"@type": "line", "text": text, "textType": "plain"}}
}

// findLine is the index of a line event from source with text, or -1.
func findLine(evs []event, source, text string) int {
	return slices.IndexFunc(evs, func(ev event) bool {
		return ev.typ == "line" && ev.field("source") == source && ev.field("text") == text
	})
}

// testMultiChat: §5.12 with two chats. Both come back (an array) with the
// events after fromEventIds; whether that id itself returns is SILENT
// (§15.12), so only ids ≥ it are allowed and every later one must be there.
func testMultiChat(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.online(tg.Agent)
	keys := make([]string, 2)
	seen := make([]int64, 2)
	for i := range keys {
		var chat string
		keys[i], chat = e.ringAndAccept(s, visitorName)
		a := want(t, s.c.post(chat+"/events", lineBody(agentText+" "+strconv.Itoa(i))), http.StatusCreated)
		seen[i] = mustNumber(t, node{v: lastSegment(location(t, a, "chatEventLocation")), path: "chatEventLocation id"}) - 1
	}
	q := "?chatSessionKeys=" + strings.Join(keys, ",") + "&fromEventIds=" +
		strconv.FormatInt(seen[0], 10) + "," + strconv.FormatInt(seen[1], 10)
	a := want(t, s.c.get(s.url+"/chat"+q), http.StatusOK)
	list := a.doc.key("chats").key("chat")
	if !list.isArray() || len(list.items()) != 2 {
		t.Fatalf("%s: want both chats, as an array (§5.12, §2.3 rule 3)", a)
	}
	for _, ch := range list.items() {
		i := slices.IndexFunc(keys, func(k string) bool { return chatOf(t, ch) == k })
		if i < 0 {
			t.Fatalf("%s: a chat that was not asked for (%v)", ch.path, keys)
		}
		evs := events(t, ch.key("events").key("event"))
		if len(evs) == 0 || evs[0].id < seen[i] || evs[0].id > seen[i]+1 {
			t.Errorf("%s: events %v, want those after %d (or from it, §15.12)", ch.path, ids(evs), seen[i])
			continue
		}
		if findLine(evs, "agent", agentText+" "+strconv.Itoa(i)) < 0 {
			t.Errorf("%s: the agent's line %d is missing", ch.path, i)
		}
	}
}

// chatOf tells which chat an element of §5.12 is: info.chatSessionKey, or
// the last segment of its self link.
func chatOf(t testing.TB, ch node) string {
	t.Helper()
	if k, ok := ch.key("info").key("chatSessionKey").text(); ok && k != "" {
		return k
	}
	for _, l := range links(t, ch.key("link")) {
		if l.rel == "self" {
			return lastSegment(l.href)
		}
	}
	return ""
}

// typingOf reads a typing or visitorName GET whose wrapper is SILENT
// (§15.9): {"k": v}, {"k": {"k": v}} or a bare v.
func typingOf(a answer, k string) node {
	n := a.doc
	for n.isObject() {
		n = n.key(k)
	}
	return n
}

// testTyping: §5.17 and §5.18. The typing GETs give a documented value,
// setting the agent's typing is POST + override PUT → 201, and the visitor
// name is the one the visitor gave.
func testTyping(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.online(tg.Agent)
	_, chat := e.ringAndAccept(s, visitorName)
	mustOneOf(t, typingOf(want(t, s.c.get(chat+"/info/agentTyping"), http.StatusOK), "agentTyping"), typingValues...)
	a := s.c.call(http.MethodPost, api(chat+"/info/agentTyping"), map[string]string{"agentTyping": "typing"},
		"X-HTTP-Method-Override", http.MethodPut)
	want(t, a, http.StatusCreated)
	mustOneOf(t, typingOf(want(t, s.c.get(chat+"/info/agentTyping"), http.StatusOK), "agentTyping"), typingValues...)
	mustOneOf(t, typingOf(want(t, s.c.get(chat+"/info/visitorTyping"), http.StatusOK), "visitorTyping"), typingValues...)
	name := typingOf(want(t, s.c.get(chat+"/info/visitorName"), http.StatusOK), "visitorName")
	if got := mustText(t, name); got != visitorName {
		t.Errorf("%s = %q, want the visitor's name %q (§5.17)", name.path, got, visitorName)
	}
}

// testChatInfo: §5.16's fields with their documented types.
func testChatInfo(t testing.TB, tg *Target) {
	e := newEnv(t, tg)
	s := e.online(tg.Agent)
	_, chat := e.ringAndAccept(s, visitorName)
	info := want(t, s.c.get(chat+"/info"), http.StatusOK).doc.key("info")
	mustOneOf(t, info.key("state"), "chatting")
	mustText(t, info.key("chatSessionKey"))
	mustText(t, info.key("agentName"))
	mustNumber(t, info.key("agentId"))
	start, last := mustTime(t, info.key("startTime")), mustTime(t, info.key("lastUpdate"))
	if last.Before(start) {
		t.Errorf("%s: lastUpdate before startTime", info.path)
	}
	if mustNumber(t, info.key("chatTimeout")) <= 0 {
		t.Errorf("%s: want a positive chatTimeout", info.path)
	}
	if got := mustText(t, info.key("visitorName")); got != visitorName {
		t.Errorf("%s: visitorName %q, want %q", info.path, got, visitorName)
	}
	for _, k := range []string{"visitorId", "rtSessionId", "duration"} {
		if f := info.key(k); f.present() {
			mustNumber(t, f)
		}
	}
	for _, k := range []string{"agentTyping", "visitorTyping"} {
		if f := info.key(k); f.present() {
			mustOneOf(t, f, typingValues...)
		}
	}
}
