package lpchat_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// Chat documents of chat-agent-api.md §5.11-5.21 and §12, served over HTTP.

// chatDoc is the chat resource of §5.11.
const chatDoc = `{ "chat": {
  "link": [
    { "@href": "{chat}", "@rel": "self" },
    { "@href": "{chat}/events", "@rel": "events" },
    { "@href": "{chat}/info", "@rel": "info" },
    { "@href": "{chat}?from=3", "@rel": "next" },
    { "@href": "{chat}/collaborationChannels", "@rel": "collaboration-channels" },
    { "@href": "{as}/visits/visit/H5550001112223334445K8400001", "@rel": "visit-id" },
    { "@href": "{chat}/transfer", "@rel": "transfer" },
    { "@href": "{chat}/transferAccount", "@rel": "transfer-account" },
    { "@href": "{chat}/survey", "@rel": "agent-survey" }
  ],
  "events": {
    "link": [
      { "@href": "{chat}/events", "@rel": "self" },
      { "@href": "{chat}/events?from=3", "@rel": "next" } ],
    "event": [
      { "@id": "0", "@type": "state", "time": "2024-03-04T10:00:00.100+00:00", "state": "waiting" },
      { "@id": "1", "@type": "line", "time": "2024-03-04T10:00:00.110+00:00", "textType": "plain",
        "text": "Please wait while we connect you.", "by": "info", "source": "system",
        "systemMessageId": 4, "subType": "REGULAR" },
      { "@id": "2", "@type": "state", "time": "2024-03-04T10:00:07.500+00:00", "state": "chatting" }
    ] },
  "info": ` + chatInfoElement + ` } }`

// chatInfoElement is the info element of §5.11 (and the body of §5.16).
const chatInfoElement = `{
    "link": [
      { "@href": "{chat}/info", "@rel": "self" },
      { "@href": "{chat}/info/visitorName", "@rel": "visitor-name" },
      { "@href": "{chat}/info/visitorTyping", "@rel": "visitor-typing" },
      { "@href": "{chat}/info/agentTyping", "@rel": "agent-typing" } ],
    "state": "chatting", "chatSessionKey": "{chatId}",
    "agentName": "Helper Bot", "agentId": 31100910,
    "startTime": "2024-03-04T10:00:00.110+00:00", "duration": 0,
    "lastUpdate": "2024-03-04T10:00:09.000+00:00", "chatTimeout": 40,
    "visitorId": 1215000000000001, "agentTyping": "not-typing", "visitorTyping": "not-typing",
    "visitorName": "visitor", "rtSessionId": 4295000001,
    "sharkVisitorId": "<token>", "sharkSessionId": "<token>", "sharkContextId": 1,
    "engagementId": 311098710, "campaignId": 311098610, "language": "en-US"
  }`

// infoWant is the info element of chatDoc decoded.
func infoWant() lpchat.ChatInfo {
	return lpchat.ChatInfo{State: "chatting", ChatSessionKey: testChatID, AgentName: "Helper Bot",
		AgentID: "31100910", StartTime: mustTime("2024-03-04T10:00:00.110+00:00"),
		LastUpdate: mustTime("2024-03-04T10:00:09.000+00:00"), ChatTimeout: 40,
		VisitorID: "1215000000000001", VisitorName: "visitor", AgentTyping: "not-typing",
		VisitorTyping: "not-typing", RTSessionID: "4295000001", EngagementID: "311098710",
		CampaignID: "311098610", Language: "en-US"}
}

func TestChatDocument(t *testing.T) { // §5.11
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("GET /agentSession/"+testASID+"/chat/"+testChatID, 200, chatDoc)
	c, err := s.Chat(testCtx(t), testChatID)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != testChatID || c.URL != f.chat() || c.NextFrom != 3 || c.VisitID != "H5550001112223334445K8400001" {
		t.Errorf("chat = id %q url %q next %d visit %q", c.ID, c.URL, c.NextFrom, c.VisitID)
	}
	wantEvents := []lpchat.Event{
		{ID: 0, Type: "state", Time: mustTime("2024-03-04T10:00:00.100+00:00"), State: "waiting"},
		{ID: 1, Type: "line", Time: mustTime("2024-03-04T10:00:00.110+00:00"), TextType: "plain",
			Text: "Please wait while we connect you.", By: "info", Source: "system", SystemMessageID: 4, SubType: "REGULAR"},
		{ID: 2, Type: "state", Time: mustTime("2024-03-04T10:00:07.500+00:00"), State: "chatting"},
	}
	assertEvents(t, c.Events, wantEvents)
	if c.Info == nil || !infoEqual(*c.Info, infoWant()) {
		t.Errorf("info = %+v\nwant %+v", c.Info, infoWant())
	}
	if c.Links["self"] != f.chat() || c.Links["next"] != f.chat()+"?from=3" || len(c.Links) != 3 {
		t.Errorf("links = %v", c.Links)
	}
}

// multiChatDoc is the multi-chat resource of §5.12 in its no-@ spelling,
// one chat as a bare object.
const multiChatDoc = `{ "chats": { "chat": {
  "link": [
    { "href": "{chat}", "rel": "self" },
    { "href": "{chat}/events", "rel": "events" },
    { "href": "{chat}?from=2", "rel": "next" } ],
  "events": {
    "link": [ { "href": "{chat}/events", "rel": "self" }, { "href": "{chat}/events?from=2", "rel": "next" } ],
    "event": [
      { "id": 0, "type": "state", "time": "2024-03-04T10:00:00.100+00:00", "state": "waiting" },
      { "id": 1, "type": "line", "time": "2024-03-04T10:00:00.110+00:00", "textType": "plain",
        "text": "Thank you for choosing to chat with us.", "by": "info", "source": "system",
        "systemMessageId": "4", "subType": "REGULAR" } ] },
  "info": { "state": "waiting", "chatSessionKey": "{chatId}", "visitorName": "visitor" } } } }`

func TestMultiChatDocument(t *testing.T) { // §5.12
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("GET /agentSession/"+testASID+"/chat", 200, multiChatDoc)
	chats, err := s.Chats(testCtx(t), []lpchat.ChatCursor{{ChatID: testChatID, LastEventID: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(chats) != 1 || chats[0].ID != testChatID || chats[0].NextFrom != 2 {
		t.Fatalf("chats = %+v", chats)
	}
	assertEvents(t, chats[0].Events, []lpchat.Event{
		{ID: 0, Type: "state", Time: mustTime("2024-03-04T10:00:00.100+00:00"), State: "waiting"},
		{ID: 1, Type: "line", Time: mustTime("2024-03-04T10:00:00.110+00:00"), TextType: "plain",
			Text: "Thank you for choosing to chat with us.", By: "info", Source: "system", SystemMessageID: 4, SubType: "REGULAR"},
	})
	if q := f.last("/chat").Query; q != "chatSessionKeys="+testChatID+"&v=1&NC=true" {
		t.Errorf("all cursors -1: query = %q (want no fromEventIds)", q)
	}

	// Last seen id 0: it is sent as is, and event 0 (returned again by a
	// server reading it as inclusive) is dropped.
	chats, err = s.Chats(testCtx(t), []lpchat.ChatCursor{{ChatID: testChatID, LastEventID: 0}})
	if err != nil {
		t.Fatal(err)
	}
	if len(chats[0].Events) != 1 || chats[0].Events[0].ID != 1 || chats[0].NextFrom != 2 {
		t.Errorf("after 0: events %+v next %d", chats[0].Events, chats[0].NextFrom)
	}
	if q := f.last("/chat").Query; q != "chatSessionKeys="+testChatID+"&fromEventIds=0&v=1&NC=true" {
		t.Errorf("query = %q", q)
	}
}

func TestMultiChatSeveral(t *testing.T) {
	f := newFake(t)
	s := session(t, f)
	other := "H1-abcK2"
	f.serveDoc("GET /agentSession/"+testASID+"/chat", 200, `{"chats":{"chat":[
	 {"link":{"@href":"{as}/chat/`+other+`","@rel":"self"},"events":{"event":[{"@id":"5","@type":"line","text":"b"},{"@id":"6","@type":"line","text":"c"}]}},
	 {"link":{"@href":"{chat}","@rel":"self"},"events":""}]}}`)
	chats, err := s.Chats(testCtx(t), []lpchat.ChatCursor{{ChatID: testChatID, LastEventID: 7}, {ChatID: other, LastEventID: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if q := f.last("/chat").Query; q != "chatSessionKeys="+testChatID+","+other+"&fromEventIds=7,5&v=1&NC=true" {
		t.Errorf("query = %q", q)
	}
	got := map[string]lpchat.Chat{}
	for _, c := range chats {
		got[c.ID] = c
	}
	if c := got[other]; len(c.Events) != 1 || c.Events[0].ID != 6 || c.NextFrom != 7 || c.VisitID != "H1K2" {
		t.Errorf("other = %+v", c)
	}
	if c := got[testChatID]; len(c.Events) != 0 || c.NextFrom != 8 {
		t.Errorf("test chat = %+v", c)
	}
}

func TestChatEventsDocument(t *testing.T) { // §5.13: one event as a bare object
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("GET /agentSession/"+testASID+"/chat/"+testChatID+"/events", 200, `{ "events": {
  "link": [
    { "@href": "{chat}/events", "@rel": "self" },
    { "@href": "{chat}/events?from=5", "@rel": "next" } ],
  "event": { "@id": "4", "@type": "line", "time": "2024-03-04T10:00:15.000+00:00",
    "textType": "plain", "text": "hi, my order is late", "by": "visitor",
    "source": "visitor", "subType": "REGULAR" } } }`)
	evs, next, err := s.ChatEvents(testCtx(t), testChatID, 4)
	if err != nil {
		t.Fatal(err)
	}
	assertEvents(t, evs, []lpchat.Event{{ID: 4, Type: "line", Time: mustTime("2024-03-04T10:00:15.000+00:00"),
		TextType: "plain", Text: "hi, my order is late", By: "visitor", Source: "visitor", SubType: "REGULAR"}})
	if next != 5 {
		t.Errorf("next = %d", next)
	}
	if q := f.last("/events").Query; q != "from=4&v=1&NC=true" {
		t.Errorf("query = %q", q)
	}
	// No new events: the element is absent and next stays.
	f.serveDoc("GET /agentSession/"+testASID+"/chat/"+testChatID+"/events", 200,
		`{"events":{"link":[{"@href":"{chat}/events","@rel":"self"},{"@href":"{chat}/events?from=5","@rel":"next"}]}}`)
	evs, next, err = s.ChatEvents(testCtx(t), testChatID, 5)
	if err != nil || len(evs) != 0 || next != 5 {
		t.Errorf("empty: %v %d %v", evs, next, err)
	}
}

func TestSendLineDocument(t *testing.T) { // §5.14
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("POST /agentSession/"+testASID+"/chat/"+testChatID+"/events", 201,
		`{ "chatEventLocation": { "link": { "@href": "{chat}/events/7", "@rel": "location" } } }`)
	id, err := s.SendLine(testCtx(t), testChatID, lpchat.Line{Text: "Let me check that for you."})
	if err != nil || id != 7 {
		t.Fatalf("SendLine = %d, %v", id, err)
	}
	assertJSON(t, f.last("/events").Body, `{ "event": { "@type": "line", "text": "Let me check that for you.", "textType": "plain" } }`)

	if _, err := s.SendLine(testCtx(t), testChatID, lpchat.Line{Text: "internal note", SubType: "ONLY_TO_REP"}); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.last("/events").Body, `{ "event": { "@type": "line", "text": "internal note", "textType": "plain", "subType": "ONLY_TO_REP" } }`)

	rich := json.RawMessage(`{ "type": "vertical", "elements": [ { "type": "text", "text": "Pick one" } ] }`)
	if _, err := s.SendLine(testCtx(t), testChatID, lpchat.Line{TextType: "rich-content", JSON: rich}); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.last("/events").Body, `{ "event": { "@type": "line", "textType": "rich-content", "json": { "type": "vertical", "elements": [ { "type": "text", "text": "Pick one" } ] } } }`)

	if _, err := s.SendLine(testCtx(t), testChatID, lpchat.Line{}); !errors.Is(err, lpchat.ErrBadRequest) {
		t.Errorf("empty line: err = %v", err)
	}
}

func TestEndChatDocument(t *testing.T) { // §5.15: chatLocation key
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("POST /agentSession/"+testASID+"/chat/"+testChatID+"/events", 201,
		`{ "chatLocation": { "link": { "@href": "{chat}/events/9", "@rel": "location" } } }`)
	if err := s.EndChat(testCtx(t), testChatID); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.last("/events").Body, `{ "event": { "@type": "state", "state": "ended" } }`)
	// A line answered with the chatLocation key still yields its id.
	id, err := s.SendLine(testCtx(t), testChatID, lpchat.Line{Text: "x"})
	if err != nil || id != 9 {
		t.Errorf("SendLine with chatLocation answer = %d, %v", id, err)
	}
}

func TestChatInfoDocuments(t *testing.T) { // §5.16-5.18
	f := newFake(t)
	s := session(t, f)
	ctx := testCtx(t)
	p := "/agentSession/" + testASID + "/chat/" + testChatID + "/info"
	f.serveDoc("GET "+p, 200, `{"info": `+chatInfoElement+`}`)
	got, err := s.ChatInfo(ctx, testChatID)
	if err != nil || !infoEqual(got, infoWant()) {
		t.Errorf("ChatInfo = %+v, %v", got, err)
	}
	f.serveDoc("GET "+p+"/visitorName", 200, `{"visitorName": "visitor"}`)
	if v, err := s.VisitorName(ctx, testChatID); err != nil || v != "visitor" {
		t.Errorf("VisitorName = %q, %v", v, err)
	}
	f.serveDoc("GET "+p+"/agentTyping", 200, `{"agentTyping": "typing"}`)
	if v, err := s.AgentTyping(ctx, testChatID); err != nil || v != "typing" {
		t.Errorf("AgentTyping = %q, %v", v, err)
	}
	f.serveDoc("GET "+p+"/visitorTyping", 200, `{"visitorTyping": "not-typing"}`)
	if v, err := s.VisitorTyping(ctx, testChatID); err != nil || v != "not-typing" {
		t.Errorf("VisitorTyping = %q, %v", v, err)
	}
	f.serveDoc("POST "+p+"/agentTyping", 201, `{"agentTyping": "typing"}`)
	if err := s.SetAgentTyping(ctx, testChatID, true); err != nil {
		t.Fatal(err)
	}
	req := f.last("/agentTyping")
	if req.Method != "POST" || req.Header.Get("X-HTTP-Method-Override") != "PUT" || req.Body != `{"agentTyping":"typing"}` {
		t.Errorf("set typing: %s %q %s", req.Method, req.Header.Get("X-HTTP-Method-Override"), req.Body)
	}
}

func TestTransferDocuments(t *testing.T) { // §5.19
	f := newFake(t)
	s := session(t, f)
	ctx := testCtx(t)
	p := "/agentSession/" + testASID + "/chat/" + testChatID + "/transfer"
	f.serveDoc("GET "+p, 200, `{ "transfer": { "skill": [
  { "id": "31100810", "name": "Support", "onlineAgents": "2" },
  { "id": "31100811", "name": "Billing", "onlineAgents": "1" } ] } }`)
	skills, err := s.TransferSkills(ctx, testChatID)
	want := []lpchat.Skill{{ID: "31100810", Name: "Support", OnlineAgents: 2}, {ID: "31100811", Name: "Billing", OnlineAgents: 1}}
	if err != nil || !reflect.DeepEqual(skills, want) {
		t.Errorf("TransferSkills = %+v, %v", skills, err)
	}
	f.serveDoc("GET "+p, 200, `{ "transfer": { "skill": { "id": "31100810", "name": "Support", "onlineAgents": "2" } } }`)
	if skills, err := s.TransferSkills(ctx, testChatID); err != nil || len(skills) != 1 {
		t.Errorf("one skill = %+v, %v", skills, err)
	}
	f.serveDoc("POST "+p, 200, ``)
	if err := s.Transfer(ctx, testChatID, lpchat.Transfer{SkillID: "31100811", Text: "Customer needs a refund."}); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.last("/transfer").Body, `{ "transfer": { "skill": { "id": 31100811 }, "text": "Customer needs a refund." } }`)
	if err := s.Transfer(ctx, testChatID, lpchat.Transfer{SkillID: "1", AgentID: "7", Text: "Please take over."}); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.last("/transfer").Body, `{ "transfer": { "agent": { "id": 7 }, "text": "Please take over." } }`)
	if err := s.Transfer(ctx, testChatID, lpchat.Transfer{}); !errors.Is(err, lpchat.ErrBadRequest) {
		t.Errorf("empty transfer: err = %v", err)
	}
}

func TestSurveyDocuments(t *testing.T) { // §5.20
	f := newFake(t)
	s := session(t, f)
	ctx := testCtx(t)
	p := "/agentSession/" + testASID + "/chat/" + testChatID + "/survey"
	f.serveDoc("GET "+p, 200, `{"survey":{"id":"1","questions":{"question":{"id":"q1","label":"Outcome"}}}}`)
	raw, err := s.Survey(ctx, testChatID)
	if err != nil || !strings.Contains(string(raw), `"Outcome"`) {
		t.Errorf("Survey = %s, %v", raw, err)
	}
	f.serveDoc("POST "+p, 200, ``)
	err = s.SubmitSurvey(ctx, testChatID, []lpchat.SurveyAnswer{
		{QuestionID: "q1", Value: "solved"}, {QuestionID: "q2", Value: "a"}, {QuestionID: "q2", Value: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	req := f.last("/survey")
	if req.Header.Get("X-HTTP-Method-Override") != "PUT" {
		t.Error("survey submit without PUT override")
	}
	assertJSON(t, req.Body, `{"survey":{"questions":{"question":[{"id":"q1","answer":"solved"},{"id":"q2","answer":["a","b"]}]}}}`)
}

func TestParticipantInfoDocument(t *testing.T) { // §5.21
	f := newFake(t)
	s := session(t, f)
	doc := `{ "authenticatedParticipantInfo": { "isUserAuthenticated": true,
    "participantId": "0b0c0d0e-1111-2222-3333-444455556666", "customerId": "c-42",
    "customerStatus": "active", "customerType": "gold", "balance": 12.5,
    "registrationDate": { "year": 2020, "month": 1, "day": 2 } },
  "authenticatedPersonalInfo": { "name": "Ada", "surname": "L",
    "contacts": [ { "email": "ada@acme.test", "phone": "+1-555-0100" } ] } }`
	f.serveDoc("GET /agentSession/"+testASID+"/participantExtendedInfo/0b0c0d0e-1111-2222-3333-444455556666", 200, doc)
	raw, err := s.ParticipantInfo(testCtx(t), "0b0c0d0e-1111-2222-3333-444455556666")
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, string(raw), doc)
}

func TestErrorDocument(t *testing.T) { // §12 / §4.4
	f := newFake(t)
	c := newClient(t, f)
	ctx := testCtx(t)
	if _, err := c.Login(ctx, lpchat.Credentials{Username: testUser, Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	f.serveDoc("POST /refresh", 401, `{ "error": { "time": "Jan 02, 2024 1:02:03 PM",
  "message": "CSRF token invalid! The CSRF token on request does not match the CSRF token on the session",
  "internalCode": 10, "responseStatus": "UNAUTHORIZED" } }`)
	err := c.Refresh(ctx)
	if !errors.Is(err, lpchat.ErrAuth) || !errors.Is(err, lpchat.ErrSessionLost) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	var ae *lpchat.APIError
	if !errors.As(err, &ae) || ae.Status != 401 || ae.InternalCode != 10 || !strings.HasPrefix(ae.Message, "CSRF token invalid!") {
		t.Errorf("APIError = %+v", ae)
	}
	if want := "lpchat: refresh: 401 unauthorized: CSRF token invalid!"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Error() = %q, want prefix %q", err, want)
	}
	req := f.last("/refresh")
	if req.Body != `{"csrf":"`+testCSRF+`"}` || req.Query != "" {
		t.Errorf("refresh request: %q %s", req.Query, req.Body)
	}
}
