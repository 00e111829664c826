package lpsim_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// chattingEnv has ann online and chatting in one chat.
func chattingEnv(t *testing.T, v lpsim.VisitorSpec) (*env, *agentClient, string, string) {
	t.Helper()
	e := newEnv(t, lpsim.Config{}, false)
	c := e.online(t, "ann", annPass)
	id := e.startChat(t, v)
	return e, c, id, c.accept()
}

func TestSingleElementIsObjectAndManyIsArray(t *testing.T) {
	e, c, chatID, chatURL := chattingEnv(t, lpsim.VisitorSpec{})

	if _, isObj := mustPath(t, c.startSessionDoc(), "agentSessionLocation.link").(map[string]any); !isObj {
		t.Fatal("agentSessionLocation.link must be an object")
	}
	doc := c.get(chatURL).expect(t, 200).doc
	if _, isArr := mustPath(t, doc, "chat.link").([]any); !isArr {
		t.Fatal("chat.link must be an array")
	}
	// One event since from → bare object; none → element absent.
	_, err := e.sim.VisitorLine(acct, chatID, "one")
	must(t, err)
	one := c.get(chatURL+"/events?from=4").expect(t, 200).doc
	if _, isObj := mustPath(t, one, "events.event").(map[string]any); !isObj {
		t.Fatalf("one event must be an object: %s", one)
	}
	none := c.get(chatURL+"/events?from=5").expect(t, 200).doc
	absent(t, none, "events.event")
	if next := rels(t, none, "events.link")["next"]; !strings.HasSuffix(next, "from=5") {
		t.Fatalf("next with nothing new must keep from: %q", next)
	}
	// Chat-level next link carries the same from as the events-level one.
	chatDoc := c.get(chatURL+"?from=5").expect(t, 200).doc
	if next := rels(t, chatDoc, "chat.link")["next"]; next != chatURL+"?from=5" {
		t.Fatalf("chat next %q", next)
	}
	absent(t, chatDoc, "chat.events.event")

	// Skills: bob has one (bare string), ann two (array).
	agents := list(t, c.get(c.as+"/availableAgents").expect(t, 200).doc, "availableAgents.agents.agent")
	if len(agents) != 3 {
		t.Fatalf("want 3 agents, got %d", len(agents))
	}
	if _, isArr := mustPath(t, agents[0], "skills.skill").([]any); !isArr {
		t.Fatalf("ann's skills must be an array: %v", agents[0])
	}
	if s := str(t, agents[1], "skills.skill"); s != skillBill {
		t.Fatalf("bob's single skill %q", s)
	}
	absent(t, agents[2], "skills.skill")

	// chatSessions: one chat → bare chatSession object.
	cs := c.get(c.as+"/chatSessions").expect(t, 200).doc
	if _, isObj := mustPath(t, cs, "chatSessions.chatSession").(map[string]any); !isObj {
		t.Fatalf("one chatSession must be an object: %v", cs)
	}
}

func (c *agentClient) startSessionDoc() map[string]any {
	c.t.Helper()
	return c.post(c.base+"/agentSession", map[string]string{"loginData": ""}).expect(c.t, 201).doc
}

func mustPath(t *testing.T, doc any, p string) any {
	t.Helper()
	v, ok := path(doc, p)
	if !ok {
		t.Fatalf("%s missing in %v", p, doc)
	}
	return v
}

func TestNumbersAsStringsAndNumbers(t *testing.T) {
	_, c, _, chatURL := chattingEnv(t, lpsim.VisitorSpec{})

	doc := c.get(chatURL).expect(t, 200).doc
	if got := str(t, doc, "chat.events.event.0.@id"); got != "0" {
		t.Fatalf("@id %q", got)
	}
	num(t, doc, "chat.events.event.1.systemMessageId")
	info := mustPath(t, doc, "chat.info")
	for _, k := range []string{"agentId", "chatTimeout", "visitorId", "rtSessionId", "duration"} {
		num(t, info, k)
	}
	for _, k := range []string{"state", "chatSessionKey", "startTime", "lastUpdate", "visitorName", "agentTyping"} {
		str(t, info, k)
	}
	if num(t, info, "agentId") != 7 {
		t.Fatalf("agentId %v", info)
	}
	isoTime := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$`)
	if tm := str(t, doc, "chat.events.event.0.time"); !isoTime.MatchString(tm) {
		t.Fatalf("event time %q is not ISO-8601 with ms and offset", tm)
	}

	if got := c.ringing(); got != "0" {
		t.Fatalf("ringingCount %q", got)
	}
	ai := c.get(c.as+"/info").expect(t, 200).doc
	if str(t, ai, "info.id") != "7" || str(t, ai, "info.maxChats") != "2" {
		t.Fatalf("info id/maxChats must be strings: %v", ai)
	}
	bob := list(t, c.get(c.as+"/availableAgents?chatState=Offline").expect(t, 200).doc, "availableAgents.agents.agent")
	if len(bob) != 2 || str(t, bob[0], "@maxChats") != "-1" || str(t, bob[0], "@chatState") != "1" {
		t.Fatalf("offline agents: %v", bob)
	}
	cs := c.get(c.as+"/chatSessions").expect(t, 200).doc
	num(t, cs, "chatSessions.chatSession.startTime")
	if s := num(t, c.get(c.as+"/chat/availableSlots").expect(t, 200).doc, "availableSlots"); s != 1 {
		t.Fatalf("availableSlots %v, want 1 (ann: 2 max, 1 open)", s)
	}
}

func TestLinksAreAbsoluteWithoutVersion(t *testing.T) {
	e, c, _, chatURL := chattingEnv(t, lpsim.VisitorSpec{})
	doc := c.get(chatURL).expect(t, 200).doc
	for rel, href := range rels(t, doc, "chat.link") {
		if !strings.HasPrefix(href, e.srv.URL+"/api/account/") || strings.Contains(href, "v=") || strings.Contains(href, "NC=") {
			t.Fatalf("link %s = %q must be absolute and without v/NC", rel, href)
		}
	}
	want := []string{"self", "events", "info", "next", "collaboration-channels", "visit-id", "transfer", "transfer-account", "agent-survey"}
	got := rels(t, doc, "chat.link")
	for _, rel := range want {
		if got[rel] == "" {
			t.Fatalf("chat link %q missing: %v", rel, got)
		}
	}
	for _, rel := range []string{"self", "visitor-name", "visitor-typing", "agent-typing"} {
		if rels(t, doc, "chat.info.link")[rel] == "" {
			t.Fatalf("info link %q missing", rel)
		}
	}
	// Behind a TLS-terminating proxy links are https.
	r := c.do(http.MethodGet, v(chatURL), nil, "X-Forwarded-Proto", "https").expect(t, 200)
	if self := rels(t, r.doc, "chat.link")["self"]; !strings.HasPrefix(self, "https://") {
		t.Fatalf("self %q, want https", self)
	}
}

func TestAcceptedURLForms(t *testing.T) {
	_, c, _, chatURL := chattingEnv(t, lpsim.VisitorSpec{})
	get := func(u string) resp { t.Helper(); return c.do(http.MethodGet, u, nil) }

	get(c.as+"/availability.json?v=1&NC=true").expect(t, 200)
	get(c.as+"/incomingRequests.json?v=1").expect(t, 200)
	get(chatURL+".json?v=1&NC=true").expect(t, 200)
	get(chatURL+"/events.json?from=2&v=1&NC=true").expect(t, 200)
	get(chatURL+"/events").expect(t, 200) // neither v nor NC
	c.do(http.MethodPost, c.base+"/agentSession.json?v=1&NC=true", "").expect(t, 201)
	c.do(http.MethodPost, c.base+"/agentSession", `{"loginData": {"userName": "x"}}`).expect(t, 201)
	c.do(http.MethodPost, c.base+"/agentSession", `{"loginData": `).expect(t, 400)

	body := `{"availability": {"chat": "Occupied"}}`
	c.do(http.MethodPost, v(c.as+"/availability"), body).expect(t, 405)
	c.do(http.MethodPut, v(c.as+"/availability"), body).expect(t, 200)
	r := c.do(http.MethodPost, v(c.as+"/availability.json"), `{"availability": {"chat": "Away"}}`,
		"X-HTTP-Method-Override", "PUT").expect(t, 200)
	if str(t, r.doc, "availability.chat") != "Away" {
		t.Fatalf("availability after override: %s", r.raw)
	}
	c.put(c.as+"/availability", `{"availability": {"chat": "Sleeping"}}`).expect(t, 400)
	c.put(c.as+"/availability", `{"availability": `).expect(t, 400)
	if str(t, c.get(c.as).expect(t, 200).doc, "agentSession.link.0.@rel") != "self" {
		t.Fatal("hub document must start with its self link")
	}
}

func TestAuthErrors(t *testing.T) {
	e, c, _, chatURL := chattingEnv(t, lpsim.VisitorSpec{})
	bearer := c.bearer

	c.bearer = ""
	r := c.get(c.as+"/availability").expect(t, 401)
	if str(t, r.doc, "error.responseStatus") != "UNAUTHORIZED" || num(t, r.doc, "error.internalCode") != 401 {
		t.Fatalf("401 body: %s", r.raw)
	}
	c.bearer = strings.Repeat("0", 64)
	wrong := c.get(c.as+"/availability").expect(t, 401)
	if strings.Contains(string(wrong.raw), c.bearer) {
		t.Fatal("error body repeats the bearer")
	}
	c.bearer = bearer

	c.get(c.base+"/agentSession/123456").expect(t, 404)
	c.get(c.as+"/chat/H1-1K1").expect(t, 404)
	c.get(chatURL+"/events/99").expect(t, 404)
	c.get(c.as+"/nothing").expect(t, 404)

	// Bob cannot use ann's agent session or read her chat.
	bob := e.online(t, "bob", bobPass)
	bob.get(c.as+"/availability").expect(t, 404)
	bob.get(chatURL).expect(t, 404)
	bob.get(strings.Replace(chatURL, c.as, bob.as, 1)).expect(t, 404)
}
