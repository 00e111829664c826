package lpchat_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// The documents below are copied from chat-agent-api.md (placeholders {as},
// {chat}, {chatId} replaced by the fake server's URLs) and served over
// HTTP, so each test covers URL, headers and decoding together.

func TestLoginDocument(t *testing.T) { // §4.3
	f := newFake(t)
	c := newClient(t, f)
	ls, err := c.Login(testCtx(t), lpchat.Credentials{Username: testUser, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if ls.Bearer != testBearer || ls.CSRF != testCSRF {
		t.Error("bearer or csrf not decoded")
	}
	if ls.TTL != 8*time.Hour {
		t.Errorf("TTL = %v, want 8h (sessionTTl is a string of ms)", ls.TTL)
	}
	if ls.UserID != "31100910" || ls.LoginName != "bot.one" {
		t.Errorf("user = %q %q", ls.UserID, ls.LoginName)
	}
	if !ls.ServerTime.Equal(time.UnixMilli(1700000000000)) {
		t.Errorf("ServerTime = %v", ls.ServerTime)
	}
	if ls.BaseURIs["agentVep"] != "va.agentvep.liveperson.net" {
		t.Errorf("BaseURIs = %v", ls.BaseURIs)
	}
	req := f.last("/login")
	if req.Query != "v=1.3" {
		t.Errorf("login query = %q, want v=1.3", req.Query)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(req.Body), &body); err != nil || body["username"] != testUser || body["password"] != testPassword {
		t.Errorf("login body = %s", req.Body)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("login must not send Authorization")
	}
}

func TestAppLoginBody(t *testing.T) { // §4.2
	f := newFake(t)
	c := newClient(t, f)
	cr := lpchat.Credentials{Username: testUser, AppKey: "ak-1234", Secret: "sec-1234",
		AccessToken: "at-1234", AccessTokenSecret: "ats-1234"}
	if _, err := c.Login(testCtx(t), cr); err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(f.last("/login").Body), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"username": testUser, "appKey": "ak-1234", "secret": "sec-1234",
		"accessToken": "at-1234", "accessTokenSecret": "ats-1234"}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("app login body = %v, want %v", body, want)
	}
}

func TestStartAgentSessionDocument(t *testing.T) { // §5.1
	for _, status := range []int{200, 201} {
		f := newFake(t)
		f.serveDoc("POST /agentSession", status, `{ "agentSessionLocation": { "link": {
    "@href": "{as}",
    "@rel": "location" } } }`)
		s := session(t, f)
		if s.ID != testASID || s.URL != f.as() {
			t.Errorf("status %d: session = %q %q", status, s.ID, s.URL)
		}
		req := f.last("/agentSession")
		if req.Query != "v=1&NC=true" || strings.TrimSpace(req.Body) != `{"loginData":""}` {
			t.Errorf("request = %q %s", req.Query, req.Body)
		}
		if got := req.Header.Get("Authorization"); got != "Bearer "+testBearer {
			t.Errorf("Authorization = %q", got)
		}
	}
}

func TestAvailabilityDocuments(t *testing.T) { // §5.3, §5.4
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("GET /agentSession/"+testASID+"/availability", 200, `{ "availability": { "chat": "Away", "voice": "Offline" } }`)
	st, err := s.Availability(testCtx(t))
	if err != nil || st != (lpchat.AgentStatus{Chat: lpchat.Away, Voice: "Offline"}) {
		t.Fatalf("Availability = %+v, %v", st, err)
	}
	f.serveDoc("POST /agentSession/"+testASID+"/availability", 200, ``)
	st, err = s.SetAvailability(testCtx(t), lpchat.Online)
	if err != nil || st.Chat != lpchat.Online {
		t.Fatalf("SetAvailability = %+v, %v", st, err)
	}
	req := f.last("/availability")
	if req.Method != "POST" || req.Header.Get("X-HTTP-Method-Override") != "PUT" {
		t.Errorf("set availability sent %s override %q", req.Method, req.Header.Get("X-HTTP-Method-Override"))
	}
	if req.Body != `{"availability":{"chat":"Online"}}` {
		t.Errorf("body = %s", req.Body)
	}
}

func TestAgentInfoDocument(t *testing.T) { // §5.5
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("GET /agentSession/"+testASID+"/info", 200, `{ "info": {
  "link": { "@href": "{as}/info", "@rel": "self" },
  "agentName": "Helper Bot", "displayName": "Helper Bot", "loginName": "helper.bot@acme.test",
  "id": "31100910", "maxChats": "4",
  "availability": { "chat": "Online", "voice": "Offline" },
  "skillsInfo": { "skillInfo": [ { "id": "31100810", "name": "Support" }, { "id": "31100811", "name": "Billing" } ] }
} }`)
	info, err := s.Info(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := lpchat.AgentInfo{ID: "31100910", AgentName: "Helper Bot", DisplayName: "Helper Bot",
		LoginName: "helper.bot@acme.test", MaxChats: 4,
		Availability: lpchat.AgentStatus{Chat: lpchat.Online, Voice: "Offline"},
		Skills:       []lpchat.Skill{{ID: "31100810", Name: "Support"}, {ID: "31100811", Name: "Billing"}}}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("Info = %+v\nwant %+v", info, want)
	}
}

func TestAvailableAgentsDocument(t *testing.T) { // §5.6
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("GET /agentSession/"+testASID+"/availableAgents", 200, `{ "availableAgents": {
  "agents": { "agent": [ {
    "@chatState": "2", "@id": "7", "@maxChats": "3", "@voiceState": "1",
    "chats": "1",
    "email": "ann@acme.test", "nickname": "Ann", "privilegeGroup": "agents",
    "skills": { "skill": [ "31100810", "31100811" ] },
    "userName": "ann"
  } ] },
  "link": { "@href": "{as}/availableAgents?timeStamp=1700000000000", "@rel": "next" }
} }`)
	agents, err := s.AvailableAgents(testCtx(t), lpchat.AgentFilter{Skill: "Sales & Support", ChatState: lpchat.Online})
	if err != nil {
		t.Fatal(err)
	}
	want := []lpchat.AvailableAgent{{ID: "7", UserName: "ann", Nickname: "Ann", Email: "ann@acme.test",
		PrivilegeGroup: "agents", ChatState: lpchat.Online, VoiceState: lpchat.Offline, MaxChats: 3, Chats: 1,
		SkillIDs: []string{"31100810", "31100811"}}}
	if !reflect.DeepEqual(agents, want) {
		t.Errorf("agents = %+v\nwant %+v", agents, want)
	}
	if q := f.last("/availableAgents").Query; q != "skill=Sales+%26+Support&chatState=Online&v=1&NC=true" {
		t.Errorf("query = %q", q)
	}
}

func TestAvailableSlotsDocument(t *testing.T) { // §5.7
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("GET /agentSession/"+testASID+"/chat/availableSlots", 200, `{"availableSlots": 2}`)
	n, err := s.AvailableSlots(testCtx(t), lpchat.SlotQuery{Skill: "Support", MaxWaitTime: 30 * time.Second})
	if err != nil || n != 2 {
		t.Fatalf("AvailableSlots = %d, %v", n, err)
	}
	if q := f.last("/availableSlots").Query; q != "skill=Support&maxWaitTime=30&v=1&NC=true" {
		t.Errorf("query = %q", q)
	}
	if _, err := s.AvailableSlots(testCtx(t), lpchat.SlotQuery{Skill: "Support", Agent: "ann"}); !errors.Is(err, lpchat.ErrBadRequest) {
		t.Errorf("skill+agent: err = %v, want ErrBadRequest", err)
	}
}

func TestIncomingRequestsDocuments(t *testing.T) { // §5.8 both forms
	f := newFake(t)
	s := session(t, f)
	route := "GET /agentSession/" + testASID + "/incomingRequests"
	f.serveDoc(route, 200, `{ "incomingRequests": { "ringingCount": "0" } }`)
	if r, err := s.IncomingRequests(testCtx(t)); err != nil || r.Count != 0 {
		t.Fatalf("not ringing: %+v, %v", r, err)
	}
	f.serveDoc(route, 200, `{ "incomingRequests": {
  "link": { "@href": "{as}/incomingRequests", "@rel": "<unconfirmed>" },
  "ringingCount": "1" } }`)
	if r, err := s.IncomingRequests(testCtx(t)); err != nil || r.Count != 1 {
		t.Fatalf("ringing: %+v, %v", r, err)
	}
}

func TestAcceptDocument(t *testing.T) { // §5.9
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("POST /agentSession/"+testASID+"/incomingRequests", 201, `{ "chatLocation": { "link": {
  "@href": "{chat}",
  "@rel": "location" } } }`)
	id, err := s.Accept(testCtx(t))
	if err != nil || id != testChatID {
		t.Fatalf("Accept = %q, %v", id, err)
	}
	if b := f.last("/incomingRequests").Body; b != `{}` {
		t.Errorf("accept body = %s", b)
	}
	f.serveDoc("POST /agentSession/"+testASID+"/incomingRequests", 200, `{}`)
	if _, err := s.Accept(testCtx(t)); !errors.Is(err, lpchat.ErrNotRinging) {
		t.Errorf("2xx without chatLocation: err = %v, want ErrNotRinging", err)
	}
}

func TestChatSessionsDocument(t *testing.T) { // §5.10 (href/rel without @)
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("GET /agentSession/"+testASID+"/chatSessions", 200, `{ "chatSessions": { "chatSession": [ {
  "link": { "href": "{as}/chat/{chatId}", "rel": "chat-session" },
  "chatSessionKey": "{chatId}",
  "startTime": 1700000000123 } ] } }`)
	cs, err := s.ChatSessions(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []lpchat.ChatSession{{ChatID: testChatID, URL: f.chat(), StartTime: time.UnixMilli(1700000000123)}}
	if len(cs) != 1 || cs[0].ChatID != want[0].ChatID || cs[0].URL != want[0].URL || !cs[0].StartTime.Equal(want[0].StartTime) {
		t.Errorf("ChatSessions = %+v, want %+v", cs, want)
	}
}

// mustTime parses an RFC 3339 time.
func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// assertEvents compares events field by field (times with Equal).
func assertEvents(t *testing.T, got, want []lpchat.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Time.Equal(w.Time) {
			t.Errorf("event %d time %v, want %v", i, g.Time, w.Time)
		}
		g.Time, w.Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("event %d = %+v\nwant %+v", i, g, w)
		}
	}
}

// infoEqual compares chat infos (times with Equal).
func infoEqual(a, b lpchat.ChatInfo) bool {
	if !a.StartTime.Equal(b.StartTime) || !a.LastUpdate.Equal(b.LastUpdate) {
		return false
	}
	a.StartTime, a.LastUpdate, b.StartTime, b.LastUpdate = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

// assertJSON compares two JSON texts by value.
func assertJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON = %s\nwant %s", got, want)
	}
}
