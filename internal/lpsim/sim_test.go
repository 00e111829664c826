package lpsim_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

var chatIDPattern = regexp.MustCompile(`^H\d{19}-[0-9a-f]{32}K\d{7}$`)

func TestSameSeedSameIDs(t *testing.T) {
	ids := func(seed int64) []string {
		t.Helper()
		sim, err := lpsim.New(lpsim.Config{Seed: seed})
		must(t, err)
		t.Cleanup(sim.Close)
		must(t, sim.AddAccount(acct))
		must(t, sim.AddSkill(acct, lpsim.SkillSpec{Name: "Support"}))
		must(t, sim.AddAgent(acct, lpsim.AgentSpec{LoginName: "a", Password: "p"}))
		var out []string
		for range 3 {
			id, err := sim.StartChat(acct, lpsim.VisitorSpec{})
			must(t, err)
			if !chatIDPattern.MatchString(id) {
				t.Fatalf("chat id %q does not match %v", id, chatIDPattern)
			}
			out = append(out, id)
		}
		return out
	}
	a, b, c := ids(42), ids(42), ids(43)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("same seed, different ids:\n%v\n%v", a, b)
	}
	if a[0] == c[0] {
		t.Fatal("another seed must give other ids")
	}
	if a[0] == a[1] {
		t.Fatal("ids must differ")
	}
}

func TestSameSeedSameSessionIDsOverHTTP(t *testing.T) {
	session := func() string {
		e := newEnv(t, lpsim.Config{Seed: 7}, false)
		c := e.client(t)
		c.login("ann", annPass)
		c.startSession()
		return c.as[strings.LastIndex(c.as, "/")+1:]
	}
	a, b := session(), session()
	if a != b || !regexp.MustCompile(`^\d{10}$`).MatchString(a) {
		t.Fatalf("agent session ids %q and %q", a, b)
	}
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, true)
	const agents = 4
	var clients []*agentClient
	for i := range agents {
		login := fmt.Sprintf("load%d", i)
		must(t, e.sim.AddAgent(acct, lpsim.AgentSpec{LoginName: login, Password: "pw"}))
		clients = append(clients, e.online(t, login, "pw"))
	}
	const chats = 12
	var wg sync.WaitGroup
	for range chats {
		wg.Go(func() {
			if _, err := e.sim.StartChat(acct, lpsim.VisitorSpec{}); err != nil {
				t.Error(err)
			}
		})
	}
	var mu sync.Mutex
	accepted := 0
	for _, c := range clients {
		wg.Go(func() {
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				mu.Lock()
				done := accepted == chats
				mu.Unlock()
				if done {
					return
				}
				if err := acceptAndTalk(c); errors.Is(err, errNothingRinging) {
					continue
				} else if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted != chats {
		t.Fatalf("accepted %d of %d chats", accepted, chats)
	}
}

var errNothingRinging = errors.New("nothing ringing")

// acceptAndTalk takes a chat, writes in it and reads it, without t.Fatal.
func acceptAndTalk(c *agentClient) error {
	r, err := c.send(http.MethodPost, v(c.as+"/incomingRequests"), "{}")
	if err != nil {
		return err
	}
	if r.status == http.StatusNotFound {
		return errNothingRinging
	}
	link, ok := path(r.doc, "chatLocation.link.@href")
	chatURL, isStr := link.(string)
	if r.status != http.StatusCreated || !ok || !isStr {
		return fmt.Errorf("accept: %d %s", r.status, r.raw)
	}
	if r, err = c.send(http.MethodPost, v(chatURL+"/events"), line("hello")); err != nil || r.status != http.StatusCreated {
		return fmt.Errorf("send: %w %d %s", err, r.status, r.raw)
	}
	if r, err = c.send(http.MethodGet, v(chatURL), nil); err != nil || r.status != http.StatusOK {
		return fmt.Errorf("read: %w %d %s", err, r.status, r.raw)
	}
	return nil
}

func TestControlAPI(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, false)
	ctl := e.client(t)
	sim := e.srv.URL + "/sim"
	ctl.do(http.MethodPost, sim+"/accounts/777", nil).expect(t, 201)
	ctl.do(http.MethodPost, sim+"/accounts/777", nil).expect(t, 409)
	ctl.do(http.MethodPost, sim+"/accounts/777/skills", `{"id": "11", "name": "Sales"}`).expect(t, 201)
	ctl.do(http.MethodPost, sim+"/accounts/777/agents", `{"loginName": "zed", "password": "pw", "skillIds": ["11"]}`).expect(t, 201)
	ctl.do(http.MethodPost, sim+"/accounts/777/agents", `{"loginName": "zed"}`).expect(t, 400)

	// An agent of the new account goes online over the API.
	c := e.client(t)
	c.base = e.srv.URL + "/api/account/777"
	c.login("zed", "pw")
	c.startSession()
	c.setAvailability("Online")
	if st := str(t, ctl.do(http.MethodGet, sim+"/accounts/777/agents/zed", nil).expect(t, 200).doc, "availability"); st != "Online" {
		t.Fatalf("agent availability %q", st)
	}

	r := ctl.do(http.MethodPost, sim+"/accounts/777/chats", `{"name": "Kim", "skillId": "11", "device": "DESKTOP"}`).expect(t, 201)
	chat := sim + "/accounts/777/chats/" + str(t, r.doc, "chatId")
	chatURL := c.accept()
	ctl.do(http.MethodPost, chat+"/lines", `{"text": "hello from curl"}`).expect(t, 201)
	ctl.do(http.MethodPost, chat+"/typing", `{"typing": true}`).expect(t, 200)
	if str(t, c.get(chatURL+"/info").doc, "info.visitorTyping") != "typing" {
		t.Fatal("typing via control API")
	}
	st := ctl.do(http.MethodGet, chat, nil).expect(t, 200)
	if str(t, st.doc, "state") != "chatting" || str(t, st.doc, "agent") != "zed" {
		t.Fatalf("chat state: %s", st.raw)
	}
	ctl.do(http.MethodPost, sim+"/faults", `{"pathContains": "/availability", "status": 500, "latency": "1ms"}`).expect(t, 201)
	c.get(c.as+"/availability").expect(t, 500)
	ctl.do(http.MethodPost, sim+"/faults", `{"pathContains": "/availability", "status": 500}`).expect(t, 201)
	ctl.do(http.MethodDelete, sim+"/faults", nil).expect(t, 200)
	c.get(c.as+"/availability").expect(t, 200)
	ctl.do(http.MethodPost, chat+"/end", nil).expect(t, 200)
	ctl.do(http.MethodPost, chat+"/end", nil).expect(t, 409)
	evs := ctl.do(http.MethodGet, chat+"/events", nil).expect(t, 200)
	list := list(t, evs.doc, "events")
	if len(list) != 7 || str(t, list[4], "text") != "hello from curl" || str(t, list[6], "state") != "ended" {
		t.Fatalf("events via control API: %s", evs.raw)
	}
	ctl.do(http.MethodGet, sim+"/accounts/999/chats/x", nil).expect(t, 404)
	ctl.do(http.MethodPost, sim+"/accounts/777/agents/zed/expire-sessions", nil).expect(t, 200)
	c.get(c.as+"/availability").expect(t, 401)
	ctl.do(http.MethodPost, sim+"/accounts/777/agents/zed/expire-login", nil).expect(t, 200)
	if n := num(t, ctl.do(http.MethodGet, sim+"/stats", nil).expect(t, 200).doc, "requests"); n != float64(e.sim.Requests()) || n == 0 {
		t.Fatalf("stats requests %v", n)
	}
}

func TestStrictCookies(t *testing.T) {
	e := newEnv(t, lpsim.Config{StrictCookies: true}, false)
	c := e.client(t)
	c.login("ann", annPass)
	r := c.startSession()
	id := c.as[strings.LastIndex(c.as, "/")+1:]
	if !strings.Contains(r.header.Get("Set-Cookie"), lpsim.AgentSessionCookieName(id)+"=") {
		t.Fatalf("no agent-session cookie: %v", r.header)
	}
	c.get(c.as+"/availability").expect(t, 200) // the jar sends it

	bare := e.client(t) // same bearer, no cookies
	bare.bearer = c.bearer
	bare.get(c.as+"/availability").expect(t, 401)
}

func TestOAuthSignedRequests(t *testing.T) {
	e := newEnv(t, lpsim.Config{StrictCookies: true}, false)
	c := e.client(t)
	signed := func(method, rawURL, body string, secret string) resp {
		t.Helper()
		return c.do(method, rawURL, body, "Authorization", oauthHeader(t, method, rawURL, secret))
	}
	r := signed(http.MethodPost, v(c.base+"/agentSession"), `{"loginData": ""}`, botSecret).expect(t, 201)
	if r.header.Get("Set-Cookie") != "" {
		t.Fatal("signed sessions get no cookie")
	}
	as := str(t, r.doc, "agentSessionLocation.link.@href")
	info := signed(http.MethodGet, v(as+"/info"), "", botSecret).expect(t, 200)
	if str(t, info.doc, "info.loginName") != "bot" {
		t.Fatalf("signed info: %s", info.raw)
	}
	signed(http.MethodGet, v(as+"/info"), "", "wrong-secret").expect(t, 401)
	c.do(http.MethodGet, v(as+"/info"), nil, "Authorization", `OAuth oauth_consumer_key="x"`).expect(t, 401)
}

// oauthHeader signs a request like an OAuth 1.0 client (HMAC-SHA1).
func oauthHeader(t *testing.T, method, rawURL, consumerSecret string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	must(t, err)
	params := map[string]string{
		"oauth_consumer_key": botAppKey, "oauth_token": botToken, "oauth_nonce": "n0nce",
		"oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "1700000000", "oauth_version": "1.0",
	}
	var pairs []string
	for k, vs := range u.Query() {
		for _, val := range vs {
			pairs = append(pairs, esc(k)+"="+esc(val))
		}
	}
	for k, val := range params {
		pairs = append(pairs, esc(k)+"="+esc(val))
	}
	sort.Strings(pairs)
	base := method + "&" + esc(u.Scheme+"://"+u.Host+u.EscapedPath()) + "&" + esc(strings.Join(pairs, "&"))
	mac := hmac.New(sha1.New, []byte(esc(consumerSecret)+"&"+esc(botTokenSc)))
	mac.Write([]byte(base))
	params["oauth_signature"] = base64.StdEncoding.EncodeToString(mac.Sum(nil))
	var parts []string
	for k, val := range params {
		parts = append(parts, k+`="`+esc(val)+`"`)
	}
	sort.Strings(parts)
	return "OAuth " + strings.Join(parts, ", ")
}

func esc(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func TestScriptedVisitors(t *testing.T) {
	e := newEnv(t, lpsim.Config{}, true)
	c := e.online(t, "ann", annPass) // both skills, room for MaxConcurrent chats
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.sim.StartScriptedVisitors(ctx, acct, lpsim.ScriptConfig{
		ChatsPerMinute: 6000, LineInterval: 2 * time.Millisecond, LinesPerChat: 2, MaxConcurrent: 2,
	})
	// Ann accepts whatever rings until a scripted visitor has left.
	var ended string
	testwait.True(t, 5*time.Second, "a scripted chat to end by the visitor", func() bool {
		if r := c.do(http.MethodPost, v(c.as+"/incomingRequests"), "{}"); r.status == http.StatusCreated {
			chatURL := str(t, r.doc, "chatLocation.link.@href")
			ended = chatURL[strings.LastIndex(chatURL, "/")+1:]
		}
		if ended == "" {
			return false
		}
		st, _, err := e.sim.ChatState(acct, ended)
		return err == nil && st == "ended"
	})
	views, err := e.sim.ChatEvents(acct, ended)
	must(t, err)
	visitorLines := 0
	for _, ev := range views {
		if ev.Source == "visitor" {
			visitorLines++
		}
	}
	last := views[len(views)-1]
	if visitorLines != 2 || last.State != "ended" || views[len(views)-2].SystemMessageID != 6 {
		t.Fatalf("scripted chat: %d visitor lines, events %+v", visitorLines, views)
	}
	cancel()
}

func TestConfigAndSpecErrors(t *testing.T) {
	if _, err := lpsim.New(lpsim.Config{AcceptWindow: -time.Second}); !errors.Is(err, lpsim.ErrNegativeDuration) {
		t.Fatalf("negative duration: %v", err)
	}
	e := newEnv(t, lpsim.Config{}, false)
	s := e.sim
	for _, tc := range []struct {
		err  error
		want error
	}{
		{s.AddAccount(acct), lpsim.ErrAccountExists},
		{s.AddSkill("x", lpsim.SkillSpec{Name: "n"}), lpsim.ErrUnknownAccount},
		{s.AddSkill(acct, lpsim.SkillSpec{Name: "Support"}), lpsim.ErrSkillExists},
		{s.AddSkill(acct, lpsim.SkillSpec{ID: "abc", Name: "z"}), lpsim.ErrInvalidSpec},
		{s.AddAgent(acct, lpsim.AgentSpec{LoginName: "ann", Password: "x"}), lpsim.ErrAgentExists},
		{s.AddAgent(acct, lpsim.AgentSpec{LoginName: "n"}), lpsim.ErrInvalidSpec},
		{s.AddAgent(acct, lpsim.AgentSpec{LoginName: "n", AppKey: "k"}), lpsim.ErrInvalidSpec},
		{s.AddAgent(acct, lpsim.AgentSpec{LoginName: "n", Password: "p", SkillIDs: []string{"1"}}), lpsim.ErrUnknownSkill},
		{s.AddAgent(acct, lpsim.AgentSpec{LoginName: "n", Password: "p", MaxChats: -2}), lpsim.ErrInvalidSpec},
		{s.AddAgent(acct, lpsim.AgentSpec{LoginName: "n", Password: "p", ID: "7"}), lpsim.ErrAgentExists},
		{func() error { _, err := s.StartChat(acct, lpsim.VisitorSpec{SkillID: "1"}); return err }(), lpsim.ErrUnknownSkill},
		{func() error { _, err := s.StartChat("x", lpsim.VisitorSpec{}); return err }(), lpsim.ErrUnknownAccount},
		{func() error { _, _, err := s.ChatState(acct, "x"); return err }(), lpsim.ErrUnknownChat},
		{func() error { _, err := s.AgentAvailability(acct, "x"); return err }(), lpsim.ErrUnknownAgent},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("got %v, want %v", tc.err, tc.want)
		}
	}
}
