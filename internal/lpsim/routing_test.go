package lpsim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

func TestAcceptWindowSetsAwayAndReroutes(t *testing.T) {
	e := newEnv(t, lpsim.Config{AcceptWindow: 20 * time.Second}, false)
	ann := e.online(t, "ann", annPass)
	bob := e.online(t, "bob", bobPass)
	chatID := e.startChat(t, lpsim.VisitorSpec{SkillID: skillBill})

	// Both are idle; ann was added first.
	if ann.ringing() != "1" || bob.ringing() != "0" {
		t.Fatal("chat must ring at ann only")
	}
	e.clock.Advance(19 * time.Second)
	if ann.ringing() != "1" {
		t.Fatal("still within the accept window")
	}
	e.clock.Advance(time.Second)
	if got := ann.ringing(); got != "0" {
		t.Fatalf("ann ringingCount %s after the window", got)
	}
	if st := str(t, ann.get(ann.as+"/availability").doc, "availability.chat"); st != "Away" {
		t.Fatalf("ann %s after a missed ring, want Away", st)
	}
	ann.post(ann.as+"/incomingRequests", map[string]any{}).expect(t, 404)
	if bob.ringing() != "1" {
		t.Fatal("chat must be rerouted to bob")
	}
	bob.accept()
	if st, who, _ := e.sim.ChatState(acct, chatID); st != "chatting" || who != "bob" {
		t.Fatalf("chat %s with %q", st, who)
	}
}

func TestAcceptWindowPassesWithoutRequests(t *testing.T) {
	e := newEnv(t, lpsim.Config{AcceptWindow: 30 * time.Millisecond}, true)
	e.online(t, "ann", annPass)
	e.startChat(t, lpsim.VisitorSpec{})
	// No request arrives: the background sweep must set ann Away.
	testwait.True(t, 5*time.Second, "ann Away", func() bool {
		st, err := e.sim.AgentAvailability(acct, "ann")
		return err == nil && st == "Away"
	})
}

func TestRoutingBySkillCapacityAndAvailability(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	ann := e.online(t, "ann", annPass) // Support+Billing, maxChats 2
	bob := e.online(t, "bob", bobPass) // Billing, unlimited

	e.startChat(t, lpsim.VisitorSpec{SkillID: skillSup})
	e.startChat(t, lpsim.VisitorSpec{SkillID: skillSup})
	third := e.startChat(t, lpsim.VisitorSpec{SkillID: skillSup})
	if ann.ringing() != "2" || bob.ringing() != "0" {
		t.Fatal("Support chats ring at ann, at most maxChats=2")
	}
	if st, _, _ := e.sim.ChatState(acct, third); st != "waiting" {
		t.Fatalf("third chat %s", st)
	}
	first := ann.accept()
	ann.accept()
	if ann.ringing() != "0" {
		t.Fatal("ann is full")
	}
	// Ending one frees a slot: the third chat rings.
	ann.post(first+"/events", map[string]any{"event": map[string]string{"@type": "state", "state": "ended"}}).expect(t, 201)
	if ann.ringing() != "1" {
		t.Fatal("third chat must ring once ann has room")
	}

	// Occupied agents get no new chats; Away agents neither.
	bob.setAvailability("Occupied")
	e.startChat(t, lpsim.VisitorSpec{SkillID: skillBill})
	if bob.ringing() != "0" {
		t.Fatal("Occupied bob must not get a new chat")
	}
	bob.setAvailability("Online")
	if bob.ringing() != "1" {
		t.Fatal("Online bob gets the waiting chat")
	}
}

func TestReapingIdleAgentSession(t *testing.T) {
	e := newEnv(t, lpsim.Config{SessionIdleTimeout: 400 * time.Second}, false)
	ann := e.online(t, "ann", annPass)
	chatID := e.startChat(t, lpsim.VisitorSpec{SkillID: skillBill})
	ann.accept()

	// Requests keep it alive.
	for range 3 {
		e.clock.Advance(300 * time.Second)
		ann.get(ann.as+"/incomingRequests").expect(t, 200)
	}
	e.clock.Advance(400 * time.Second)
	r := ann.get(ann.as+"/incomingRequests").expect(t, 401)
	if !strings.Contains(str(t, r.doc, "error.message"), "ended") {
		t.Fatalf("reaped session error: %s", r.raw)
	}
	if st, who, _ := e.sim.ChatState(acct, chatID); st != "waiting" || who != "" {
		t.Fatalf("chat of a reaped agent: %s with %q", st, who)
	}
	// The bearer is still good: a new session starts Away.
	ann.startSession()
	if st := str(t, ann.get(ann.as+"/availability").doc, "availability.chat"); st != "Away" {
		t.Fatalf("new session %s", st)
	}
}

func TestSecondAgentSessionKeepsChats(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	ann := e.online(t, "ann", annPass)
	chatID := e.startChat(t, lpsim.VisitorSpec{})
	oldChat := ann.accept()

	// A second device: new login, new agent session, same agent.
	dev2 := e.client(t)
	dev2.login("ann", annPass)
	dev2.startSession()
	if st := str(t, dev2.get(dev2.as+"/availability").doc, "availability.chat"); st != "Online" {
		t.Fatalf("continuity keeps availability: %s", st)
	}
	cs := dev2.get(dev2.as+"/chatSessions").expect(t, 200).doc
	href := str(t, cs, "chatSessions.chatSession.link.@href")
	if href != dev2.as+"/chat/"+chatID || str(t, cs, "chatSessions.chatSession.chatSessionKey") != chatID {
		t.Fatalf("chatSessions of the new session: %v", cs)
	}
	dev2.post(href+"/events", map[string]any{"event": map[string]string{"@type": "line", "text": "from device 2"}}).expect(t, 201)

	// The first session ends; the chat stays with ann.
	ann.do("DELETE", v(ann.as), nil).expect(t, 200)
	ann.get(oldChat).expect(t, 401)
	if st, who, _ := e.sim.ChatState(acct, chatID); st != "chatting" || who != "ann" {
		t.Fatalf("chat %s with %q after the old session ended", st, who)
	}
	dev2.get(href).expect(t, 200)
}

func TestAvailableAgentsAndSlots(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	ann := e.online(t, "ann", annPass)
	e.startChat(t, lpsim.VisitorSpec{})
	ann.accept()

	doc := ann.get(ann.as+"/availableAgents?chatState=Online").expect(t, 200).doc
	a := mustPath(t, doc, "availableAgents.agents.agent")
	if str(t, a, "userName") != "ann" || str(t, a, "@chatState") != "2" || str(t, a, "chats") != "1" ||
		str(t, a, "@id") != "7" || str(t, a, "nickname") != "Ann" {
		t.Fatalf("online agents: %v", a)
	}
	next := str(t, doc, "availableAgents.link.@href")
	if str(t, doc, "availableAgents.link.@rel") != "next" || !strings.Contains(next, "/availableAgents?timeStamp=") {
		t.Fatalf("next link %q", next)
	}
	ann.get(next).expect(t, 200)
	if n := len(list(t, ann.get(ann.as+"/availableAgents?skill=Billing").doc, "availableAgents.agents.agent")); n != 2 {
		t.Fatalf("Billing agents: %d", n)
	}
	if n := len(list(t, ann.get(ann.as+"/availableAgents?chatState=4").doc, "availableAgents.agents.agent")); n != 0 {
		t.Fatalf("Away agents: %d", n)
	}
	ann.get(ann.as+"/availableAgents?chatState=Dancing").expect(t, 400)

	slots := func(q string) float64 {
		t.Helper()
		return num(t, ann.get(ann.as+"/chat/availableSlots"+q).expect(t, 200).doc, "availableSlots")
	}
	if s := slots("?skill=Support&maxWaitTime=0"); s != 1 {
		t.Fatalf("Support slots %v", s)
	}
	if s := slots("?agent=bob"); s != 0 {
		t.Fatalf("offline bob has %v slots", s)
	}
	e.online(t, "bob", bobPass)
	if s := slots("?skill=Billing"); s != -1 {
		t.Fatalf("unlimited bob: %v", s)
	}
	ann.get(ann.as+"/chat/availableSlots?agent=bob&skill=Billing").expect(t, 400)
	ann.get(ann.as+"/chat/availableSlots?skill=Support&maxWaitTime=90000").expect(t, 400)
}
