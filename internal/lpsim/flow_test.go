package lpsim_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// TestEndToEndFlow walks the life of a bot of chat-agent-api.md §1.
func TestEndToEndFlow(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	c := e.client(t)

	// 1. Domain lookup.
	host := strings.TrimPrefix(e.srv.URL, "http://")
	d := c.do(http.MethodGet, e.srv.URL+"/api/account/"+acct+"/service/agentVep/baseURI.json?version=1.0", nil).expect(t, 200)
	if got := str(t, d.doc, "baseURI"); got != host {
		t.Fatalf("baseURI %q, want %q", got, host)
	}

	// 2. Login.
	l := c.login("ann", annPass)
	if len(c.bearer) != 64 || len(c.csrf) != 64 {
		t.Fatalf("bearer/csrf must be 64 hex chars: %d/%d", len(c.bearer), len(c.csrf))
	}
	if got := str(t, l.doc, "sessionTTl"); got != "28800000" {
		t.Fatalf("sessionTTl %q", got)
	}
	if !strings.Contains(l.header.Get("Set-Cookie"), "Session_id=") {
		t.Fatalf("no Session_id cookie: %v", l.header)
	}

	// 3. Agent session, initially Away.
	s := c.startSession()
	if s.header.Get("Location") != c.as {
		t.Fatalf("Location %q, want %q", s.header.Get("Location"), c.as)
	}
	if got := str(t, c.get(c.as+"/availability").expect(t, 200).doc, "availability.chat"); got != "Away" {
		t.Fatalf("initial availability %q", got)
	}

	// 4. Online; 5. nothing rings yet.
	c.setAvailability("Online")
	if got := c.ringing(); got != "0" {
		t.Fatalf("ringingCount %q", got)
	}

	// A visitor arrives and the chat rings.
	chatID := e.startChat(t, lpsim.VisitorSpec{Name: "Jane", SkillID: skillSup})
	r := c.get(c.as+"/incomingRequests").expect(t, 200)
	if got := str(t, r.doc, "incomingRequests.ringingCount"); got != "1" {
		t.Fatalf("ringingCount %q", got)
	}
	str(t, r.doc, "incomingRequests.link.@href")

	// 6. Take it.
	chatURL := c.accept()
	if want := c.as + "/chat/" + chatID; chatURL != want {
		t.Fatalf("chat URL %q, want %q", chatURL, want)
	}

	// 7. Read it: waiting, system #4, chatting, system #3.
	doc := c.get(chatURL).expect(t, 200).doc
	events := list(t, doc, "chat.events.event")
	if len(events) != 4 {
		t.Fatalf("want 4 events, got %d: %v", len(events), events)
	}
	wantSeq := []string{"state/waiting", "line/4", "state/chatting", "line/3"}
	for i, ev := range events {
		got := str(t, ev, "@type") + "/"
		if got == "state/" {
			got += str(t, ev, "state")
		} else {
			got += strconv.Itoa(int(num(t, ev, "systemMessageId")))
		}
		if got != wantSeq[i] {
			t.Fatalf("event %d is %s, want %s", i, got, wantSeq[i])
		}
	}
	if got := str(t, events[3], "text"); got != "You are now chatting with Ann" {
		t.Fatalf("system #3 text %q", got)
	}
	next := rels(t, doc, "chat.events.link")["next"]
	if !strings.HasSuffix(next, "/events?from=4") {
		t.Fatalf("events next %q", next)
	}

	// The visitor writes; the next poll returns one bare event object.
	if _, err := e.sim.VisitorLine(acct, chatID, "hi, my order is late"); err != nil {
		t.Fatal(err)
	}
	ev := c.get(next).expect(t, 200).doc
	if got := str(t, ev, "events.event.text"); got != "hi, my order is late" {
		t.Fatalf("visitor line %q", got)
	}
	if got := str(t, ev, "events.event.source"); got != "visitor" {
		t.Fatalf("source %q", got)
	}
	next = rels(t, ev, "events.link")["next"]

	// 8. Send.
	sent := c.post(chatURL+"/events", map[string]any{"event": map[string]string{
		"@type": "line", "text": "Let me check that for you.", "textType": "plain"}}).expect(t, 201)
	if got := str(t, sent.doc, "chatEventLocation.link.@href"); got != chatURL+"/events/5" {
		t.Fatalf("chatEventLocation %q", got)
	}
	ev = c.get(next).expect(t, 200).doc
	if str(t, ev, "events.event.by") != "Ann" || str(t, ev, "events.event.source") != "agent" {
		t.Fatalf("agent line: %v", ev)
	}

	// 9. Close: state ended + system #5; later POSTs are 400; GET still works.
	end := c.post(chatURL+"/events", map[string]any{"event": map[string]string{"@type": "state", "state": "ended"}}).expect(t, 201)
	if got := str(t, end.doc, "chatLocation.link.@href"); got != chatURL+"/events/6" {
		t.Fatalf("end chatLocation %q", got)
	}
	views, err := e.sim.ChatEvents(acct, chatID)
	must(t, err)
	last := views[len(views)-1]
	if views[6].State != "ended" || last.SystemMessageID != 5 || last.Text != "Ann has left the chat" {
		t.Fatalf("ending events: %+v / %+v", views[6], last)
	}
	c.post(chatURL+"/events", map[string]any{"event": map[string]string{"@type": "line", "text": "late"}}).expect(t, 400)
	c.get(chatURL).expect(t, 200)
	if st, who, err := e.sim.ChatState(acct, chatID); err != nil || st != "ended" || who != "ann" {
		t.Fatalf("ChatState = %q %q %v", st, who, err)
	}

	// 10. Refresh; 11. logout kills the bearer.
	c.post(c.base+"/refresh", map[string]string{"csrf": c.csrf}).expect(t, 200)
	out := c.post(c.base+"/logout", map[string]string{"csrf": c.csrf}).expect(t, 200)
	if len(out.raw) != 0 {
		t.Fatalf("logout body %q, want empty", out.raw)
	}
	c.get(c.as+"/availability").expect(t, 401)
}
