package lpsim_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

func line(text string) map[string]any {
	return map[string]any{"event": map[string]any{"@type": "line", "text": text, "textType": "plain"}}
}

func TestSendLineKinds(t *testing.T) {
	e, c, chatID, chatURL := chattingEnv(t, lpsim.VisitorSpec{})
	post := func(ev map[string]any) resp {
		t.Helper()
		return c.post(chatURL+"/events", map[string]any{"event": ev})
	}

	post(map[string]any{"@type": "line", "text": "<div dir='ltr' style='direction:ltr;text-align:left;'>hi</div>", "textType": "html"}).expect(t, 201)
	post(map[string]any{"@type": "line", "text": "note", "subType": "ONLY_TO_REP"}).expect(t, 201)
	rich := map[string]any{"type": "vertical", "elements": []any{map[string]any{"type": "text", "text": "Pick one"}}}
	loc := post(map[string]any{"@type": "line", "textType": "rich-content", "json": rich}).expect(t, 201)
	one := c.get(str(t, loc.doc, "chatEventLocation.link.@href")).expect(t, 200).doc
	if str(t, one, "event.json.elements.0.text") != "Pick one" || str(t, one, "event.textType") != "rich-content" {
		t.Fatalf("rich-content event: %v", one)
	}
	for _, bad := range []map[string]any{
		{"@type": "line", "text": ""},
		{"@type": "line", "text": "x", "textType": "markdown"},
		{"@type": "line", "text": "x", "subType": "SECRET"},
		{"@type": "line", "text": "<script>alert(1)</script>", "textType": "html"},
		{"@type": "line", "textType": "rich-content"},
		{"@type": "state", "state": "chatting"},
		{"@type": "url", "text": "x"},
	} {
		post(bad).expect(t, 400)
	}
	c.post(chatURL+"/events", `{"event": `).expect(t, 400)
	c.post(chatURL+"/events", map[string]any{}).expect(t, 400)

	views, err := e.sim.ChatEvents(acct, chatID)
	must(t, err)
	if len(views) != 7 {
		t.Fatalf("want 7 events (4 + 3 lines), got %d", len(views))
	}
	if views[4].TextType != "html" || views[5].SubType != "ONLY_TO_REP" || views[4].SubType != "REGULAR" || views[6].By != "Ann" {
		t.Fatalf("lines: %+v", views[4:])
	}
	var raw map[string]any
	must(t, json.Unmarshal(views[6].JSON, &raw))
	if raw["@id"] != "6" {
		t.Fatalf("EventView.JSON: %s", views[6].JSON)
	}
}

func TestVisitorEndsChat(t *testing.T) {
	e, c, chatID, chatURL := chattingEnv(t, lpsim.VisitorSpec{})
	must(t, e.sim.VisitorEnd(acct, chatID))
	doc := c.get(chatURL+"/events?from=4").expect(t, 200).doc
	evs := list(t, doc, "events.event")
	if len(evs) != 2 || num(t, evs[0], "systemMessageId") != 6 || str(t, evs[1], "state") != "ended" {
		t.Fatalf("visitor end events: %v", evs)
	}
	if str(t, c.get(chatURL+"/info").doc, "info.state") != "ended" {
		t.Fatal("info state must be ended")
	}
	c.post(chatURL+"/events", line("still there?")).expect(t, 400)
	if _, err := e.sim.VisitorLine(acct, chatID, "x"); err == nil {
		t.Fatal("a line to an ended chat must fail")
	}
	if err := e.sim.VisitorEnd(acct, "nope"); err == nil {
		t.Fatal("unknown chat must fail")
	}
}

func TestTypingChangesInfoNotEvents(t *testing.T) {
	e, c, chatID, chatURL := chattingEnv(t, lpsim.VisitorSpec{Name: "Jane"})
	before := len(list(t, c.get(chatURL+"/events").doc, "events.event"))

	r := c.put(chatURL+"/info/agentTyping", map[string]string{"agentTyping": "typing"}).expect(t, 201)
	if str(t, r.doc, "agentTyping") != "typing" {
		t.Fatalf("set typing: %s", r.raw)
	}
	if str(t, c.get(chatURL+"/info/agentTyping").expect(t, 200).doc, "agentTyping") != "typing" {
		t.Fatal("agentTyping GET")
	}
	c.put(chatURL+"/info/agentTyping", map[string]string{"agentTyping": "maybe"}).expect(t, 400)
	c.post(chatURL+"/info/agentTyping", map[string]string{"agentTyping": "typing"}).expect(t, 405)

	must(t, e.sim.VisitorTyping(acct, chatID, true))
	if str(t, c.get(chatURL+"/info/visitorTyping").expect(t, 200).doc, "visitorTyping") != "typing" {
		t.Fatal("visitorTyping GET")
	}
	info := c.get(chatURL+"/info").expect(t, 200).doc
	if str(t, info, "info.visitorTyping") != "typing" || str(t, info, "info.agentTyping") != "typing" {
		t.Fatalf("info: %v", info)
	}
	if str(t, c.get(chatURL+"/info/visitorName").expect(t, 200).doc, "visitorName") != "Jane" {
		t.Fatal("visitorName")
	}
	if after := len(list(t, c.get(chatURL+"/events").doc, "events.event")); after != before {
		t.Fatalf("typing added events: %d → %d", before, after)
	}
}

func TestTransfer(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	ann := e.online(t, "ann", annPass)
	bob := e.online(t, "bob", bobPass)
	chatID := e.startChat(t, lpsim.VisitorSpec{SkillID: skillSup})
	chatURL := ann.accept()

	// Only Billing has an online agent besides ann.
	sk := ann.get(chatURL+"/transfer").expect(t, 200).doc
	if str(t, sk, "transfer.skill.id") != skillBill || str(t, sk, "transfer.skill.onlineAgents") != "1" {
		t.Fatalf("transfer skills: %v", sk)
	}
	ann.post(chatURL+"/transfer", map[string]any{"transfer": map[string]any{"skill": map[string]any{"id": 31100810}}}).expect(t, 400)
	ann.post(chatURL+"/transfer", map[string]any{"transfer": map[string]any{}}).expect(t, 400)

	// Agent wins over skill; the text goes to the receiving agent only.
	ann.post(chatURL+"/transfer", map[string]any{"transfer": map[string]any{
		"skill": map[string]any{"id": skillSup}, "agent": map[string]any{"id": 8}, "text": "Please take over."}}).expect(t, 200)
	views, err := e.sim.ChatEvents(acct, chatID)
	must(t, err)
	n := len(views)
	if views[n-3].SubType != "ONLY_TO_REP" || views[n-3].Text != "Please take over." ||
		views[n-2].SystemMessageID != 13 || views[n-1].State != "waiting" {
		t.Fatalf("transfer events: %+v", views[n-3:])
	}
	ann.post(chatURL+"/events", line("still mine?")).expect(t, 403)
	ann.get(chatURL).expect(t, 200) // still readable
	if cs := ann.get(ann.as + "/chatSessions").doc; len(list(t, cs, "chatSessions.chatSession")) != 0 {
		t.Fatalf("ann still lists the chat: %v", cs)
	}
	if bob.ringing() != "1" || ann.ringing() != "0" {
		t.Fatal("the chat must ring at bob")
	}
	bobChat := bob.accept()
	if !strings.HasSuffix(bobChat, chatID) {
		t.Fatalf("bob took %s", bobChat)
	}

	// Back to a skill: text beside transfer, system #15; it rings at ann.
	bob.post(bobChat+"/transfer", map[string]any{"transfer": map[string]any{"skill": map[string]any{"id": skillSup}},
		"text": "needs support"}).expect(t, 200)
	views, _ = e.sim.ChatEvents(acct, chatID)
	n = len(views)
	if views[n-3].Text != "needs support" || views[n-2].SystemMessageID != 15 {
		t.Fatalf("skill transfer events: %+v", views[n-3:])
	}
	if ann.ringing() != "1" {
		t.Fatal("Support transfer must ring at ann")
	}
}

func TestTransferToOccupiedAgent(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	ann := e.online(t, "ann", annPass)
	bob := e.online(t, "bob", bobPass)
	bob.setAvailability("Occupied")
	e.startChat(t, lpsim.VisitorSpec{})
	chatURL := ann.accept()
	ann.post(chatURL+"/transfer", map[string]any{"transfer": map[string]any{"agent": map[string]any{"id": "8"}}}).expect(t, 200)
	if bob.ringing() != "1" {
		t.Fatal("an Occupied agent receives transferred chats")
	}
}

func TestMultiChat(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	c := e.online(t, "ann", annPass)
	a := e.startChat(t, lpsim.VisitorSpec{})
	b := e.startChat(t, lpsim.VisitorSpec{})
	c.accept()
	c.accept()
	_, err := e.sim.VisitorLine(acct, b, "on b")
	must(t, err)

	doc := c.get(c.as+"/chat?chatSessionKeys="+a+","+b+"&fromEventIds=3,3").expect(t, 200).doc
	chats := list(t, doc, "chats.chat")
	if len(chats) != 2 {
		t.Fatalf("want 2 chats: %v", doc)
	}
	absent(t, chats[0], "events.event") // a: nothing after 3
	ev := mustPath(t, chats[1], "events.event")
	if str(t, ev, "@id") != "4" || str(t, ev, "text") != "on b" {
		t.Fatalf("b's new event: %v", ev)
	}
	if str(t, chats[1], "info.chatSessionKey") != b || rels(t, chats[1], "link")["self"] != c.as+"/chat/"+b {
		t.Fatalf("b's chat parts: %v", chats[1])
	}

	// One key → bare chat object; no or negative fromEventIds → all events.
	one := c.get(c.as+"/chat?chatSessionKeys="+a).expect(t, 200).doc
	if _, isObj := mustPath(t, one, "chats.chat").(map[string]any); !isObj {
		t.Fatalf("one chat must be an object: %v", one)
	}
	if n := len(list(t, one, "chats.chat.events.event")); n != 4 {
		t.Fatalf("all events: %d", n)
	}
	neg := c.get(c.as+"/chat?chatSessionKeys="+a+"&fromEventIds=-1").expect(t, 200).doc
	if n := len(list(t, neg, "chats.chat.events.event")); n != 4 {
		t.Fatalf("negative fromEventIds: %d", n)
	}
	c.get(c.as+"/chat").expect(t, 400)
	c.get(c.as+"/chat?chatSessionKeys="+a+"&fromEventIds=1,2").expect(t, 400)
	unknown := c.get(c.as+"/chat?chatSessionKeys=H1-2K3").expect(t, 200).doc
	absent(t, unknown, "chats.chat")
}

func TestAgentSurvey(t *testing.T) {
	_, c, _, chatURL := chattingEnv(t, lpsim.VisitorSpec{})
	doc := c.get(chatURL+"/survey").expect(t, 200).doc
	qs := list(t, doc, "survey.questions.question")
	if len(qs) != 3 || str(t, qs[0], "type") != "Dropdown Box" || str(t, qs[0], "entry.0.value") != "Orders" {
		t.Fatalf("survey: %v", doc)
	}
	body := func(answers ...any) map[string]any {
		var q []any
		for i := 0; i+1 < len(answers); i += 2 {
			q = append(q, map[string]any{"id": answers[i], "answer": answers[i+1]})
		}
		return map[string]any{"survey": map[string]any{"id": str(t, doc, "survey.id"), "questions": map[string]any{"question": q}}}
	}
	c.put(chatURL+"/survey", body("3001", "Billing")).expect(t, 400)             // mandatory 3002 missing
	c.put(chatURL+"/survey", body("3001", "Nope", "3002", "Yes")).expect(t, 400) // not an entry
	c.put(chatURL+"/survey", body("9999", "x", "3001", "Billing", "3002", "Yes")).expect(t, 400)
	c.put(chatURL+"/survey", body("3001", "Billing", 3002, "Yes", "3003", []string{"Call back", "Escalate"})).expect(t, 200)

	// Answers show up as lastKnownValue; the survey works after the end too.
	c.post(chatURL+"/events", map[string]any{"event": map[string]string{"@type": "state", "state": "ended"}}).expect(t, 201)
	after := list(t, c.get(chatURL+"/survey").expect(t, 200).doc, "survey.questions.question")
	if str(t, after[0], "lastKnownValue") != "Billing" || str(t, after[2], "lastKnownValue") != "Call back,Escalate" ||
		str(t, after[2], "entry.2.checked") != "true" {
		t.Fatalf("answers: %v", after)
	}
}

func TestVisitAndParticipantInfo(t *testing.T) {
	spec := lpsim.VisitorSpec{
		Name: "Jane", Device: "MOBILE", OS: "IOS", Browser: "SAFARI", IP: "203.0.113.7",
		Survey:          []lpsim.SurveyAnswer{{QuestionID: "1", Label: "Topic", Value: "Orders"}},
		CustomVariables: map[string]string{"tier": "gold", "cart": "42"},
		Authenticated:   &lpsim.AuthenticatedVisitor{CustomerID: "c-42", Name: "Jane", Email: "jane@acme.test", RegistrationDate: "2020-01-02"},
	}
	_, c, chatID, chatURL := chattingEnv(t, spec)
	doc := c.get(chatURL).expect(t, 200).doc
	visitURL := rels(t, doc, "chat.link")["visit-id"]
	visitID := visitURL[strings.LastIndex(visitURL, "/")+1:]
	h, _, _ := strings.Cut(chatID, "-")
	if k := chatID[strings.LastIndex(chatID, "K"):]; visitID != h+k {
		t.Fatalf("visit id %q from chat %q", visitID, chatID)
	}
	visit := c.get(visitURL).expect(t, 200).doc
	if str(t, visit, "visit.visitorInfo.device") != "MOBILE" || str(t, visit, "visit.visitorInfo.ipAddress") != "203.0.113.7" ||
		str(t, visit, "visit.preChatSurvey.question.answer") != "Orders" {
		t.Fatalf("visit: %v", visit)
	}
	cv := c.get(rels(t, visit, "visit.link")["custom-variables"]).expect(t, 200).doc
	vars := list(t, cv, "customVariables.customVariable")
	if len(vars) != 2 || str(t, vars[0], "name") != "cart" || str(t, vars[1], "value") != "gold" {
		t.Fatalf("custom variables: %v", cv)
	}

	pid := str(t, doc, "chat.info.participantId")
	p := c.get(c.as+"/participantExtendedInfo/"+pid).expect(t, 200).doc
	if str(t, p, "authenticatedParticipantInfo.customerId") != "c-42" || num(t, p, "authenticatedParticipantInfo.registrationDate.year") != 2020 ||
		str(t, p, "authenticatedPersonalInfo.contacts.0.email") != "jane@acme.test" {
		t.Fatalf("participant: %v", p)
	}
	c.get(c.as+"/participantExtendedInfo/0b0c0d0e-1111-2222-3333-444455556666").expect(t, 404)
	c.get(c.as+"/visits/visit/H1K2").expect(t, 404)
}

func TestNoParticipantInfoForAnonymousVisitors(t *testing.T) {
	_, c, _, chatURL := chattingEnv(t, lpsim.VisitorSpec{})
	absent(t, c.get(chatURL+"/info").doc, "info.participantId")
	c.get(c.as+"/participantExtendedInfo/x").expect(t, 404)
}
