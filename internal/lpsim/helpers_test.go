package lpsim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

const (
	acct       = "55500011"
	skillSup   = "31100810"
	skillBill  = "31100811"
	annPass    = "ann-secret"
	bobPass    = "bob-secret"
	botAppKey  = "bot-app-key"
	botSecret  = "bot-app-secret"
	botToken   = "bot-access-token"
	botTokenSc = "bot-access-token-secret"
)

// fakeClock is an injectable clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 3, 4, 10, 0, 0, 100e6, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a simulator with one account, two skills and three agents, served
// over loopback HTTP.
type env struct {
	sim   *lpsim.Simulator
	srv   *httptest.Server
	clock *fakeClock
}

// newEnv starts a simulator; cfg.Now is replaced by a fake clock unless
// realTime.
func newEnv(t testing.TB, cfg lpsim.Config, realTime bool) *env {
	t.Helper()
	e := &env{}
	if !realTime {
		e.clock = newFakeClock()
		cfg.Now = e.clock.Now
	}
	sim, err := lpsim.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(sim.Close)
	e.sim = sim
	must(t, sim.AddAccount(acct))
	must(t, sim.AddSkill(acct, lpsim.SkillSpec{ID: skillSup, Name: "Support"}))
	must(t, sim.AddSkill(acct, lpsim.SkillSpec{ID: skillBill, Name: "Billing"}))
	must(t, sim.AddAgent(acct, lpsim.AgentSpec{LoginName: "ann", Password: annPass, Nickname: "Ann",
		MaxChats: 2, SkillIDs: []string{skillSup, skillBill}, ID: "7"}))
	must(t, sim.AddAgent(acct, lpsim.AgentSpec{LoginName: "bob", Password: bobPass, Nickname: "Bob",
		SkillIDs: []string{skillBill}, ID: "8"}))
	must(t, sim.AddAgent(acct, lpsim.AgentSpec{LoginName: "bot", AppKey: botAppKey, Secret: botSecret,
		AccessToken: botToken, AccessTokenSecret: botTokenSc, Nickname: "Helper Bot", ID: "31100910"}))
	e.srv = newServer(t, sim)
	return e
}

func newServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// agentClient is a raw HTTP agent: its own cookie jar, bearer and session.
type agentClient struct {
	t      testing.TB
	base   string // {base} = http://host/api/account/{acct}
	hc     *http.Client
	bearer string
	csrf   string
	as     string // agent session URL
}

func (e *env) client(t testing.TB) *agentClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	must(t, err)
	return &agentClient{t: t, base: e.srv.URL + "/api/account/" + acct, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// resp is a decoded answer.
type resp struct {
	status int
	header http.Header
	raw    []byte
	doc    map[string]any
}

// v appends the query every Chat Agent API call carries.
func v(u string) string {
	if strings.Contains(u, "?") {
		return u + "&v=1&NC=true"
	}
	return u + "?v=1&NC=true"
}

// do sends a request; body is JSON-encoded unless it is a string or nil.
// hdr holds header name/value pairs.
func (c *agentClient) do(method, url string, body any, hdr ...string) resp {
	c.t.Helper()
	r, err := c.send(method, url, body, hdr...)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// send is do without failing the test, for goroutines.
func (c *agentClient) send(method, url string, body any, hdr ...string) (resp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return resp{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return resp{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return resp{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return resp{}, err
	}
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &r.doc); err != nil {
			return r, fmt.Errorf("%s %s: body is not a JSON object: %w: %s", method, url, err, raw)
		}
	}
	return r, nil
}

// expect fails unless the status is want.
func (r resp) expect(t testing.TB, want int) resp {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.raw)
	}
	return r
}

func (c *agentClient) get(url string) resp { c.t.Helper(); return c.do(http.MethodGet, v(url), nil) }

func (c *agentClient) post(url string, body any) resp {
	c.t.Helper()
	return c.do(http.MethodPost, v(url), body)
}

func (c *agentClient) put(url string, body any) resp {
	c.t.Helper()
	return c.do(http.MethodPost, v(url), body, "X-HTTP-Method-Override", "PUT")
}

// login logs in with a password and keeps bearer and csrf.
func (c *agentClient) login(user, pass string) resp {
	c.t.Helper()
	r := c.do(http.MethodPost, c.base+"/login?v=1.3", map[string]string{"username": user, "password": pass}).expect(c.t, 200)
	c.bearer = str(c.t, r.doc, "bearer")
	c.csrf = str(c.t, r.doc, "csrf")
	return r
}

// startSession starts an agent session and keeps its URL.
func (c *agentClient) startSession() resp {
	c.t.Helper()
	r := c.post(c.base+"/agentSession", map[string]string{"loginData": ""}).expect(c.t, 201)
	c.as = str(c.t, r.doc, "agentSessionLocation.link.@href")
	return r
}

func (c *agentClient) setAvailability(state string) {
	c.t.Helper()
	r := c.put(c.as+"/availability", map[string]any{"availability": map[string]string{"chat": state}}).expect(c.t, 200)
	if got := str(c.t, r.doc, "availability.chat"); got != state {
		c.t.Fatalf("availability %q, want %q", got, state)
	}
}

// online logs in, starts a session and goes Online.
func (e *env) online(t testing.TB, user, pass string) *agentClient {
	t.Helper()
	c := e.client(t)
	c.login(user, pass)
	c.startSession()
	c.setAvailability("Online")
	return c
}

// accept takes the next ringing chat and returns its URL.
func (c *agentClient) accept() string {
	c.t.Helper()
	r := c.post(c.as+"/incomingRequests", map[string]any{}).expect(c.t, 201)
	return str(c.t, r.doc, "chatLocation.link.@href")
}

func (c *agentClient) ringing() string {
	c.t.Helper()
	return str(c.t, c.get(c.as+"/incomingRequests").expect(c.t, 200).doc, "incomingRequests.ringingCount")
}

// path walks a decoded document along dot-separated keys; numeric parts
// index arrays.
func path(doc any, p string) (any, bool) {
	cur := doc
	for _, k := range strings.Split(p, ".") {
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[k]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i := 0
			for _, ch := range k {
				if ch < '0' || ch > '9' {
					return nil, false
				}
				i = i*10 + int(ch-'0')
			}
			if i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// str returns the string at p and fails when it is missing or not a string.
func str(t testing.TB, doc any, p string) string {
	t.Helper()
	v, ok := path(doc, p)
	s, isStr := v.(string)
	if !ok || !isStr {
		t.Fatalf("%s: want a string, got %T %v in %v", p, v, v, doc)
	}
	return s
}

// num returns the JSON number at p and fails when it is missing or not a number.
func num(t testing.TB, doc any, p string) float64 {
	t.Helper()
	v, ok := path(doc, p)
	f, isNum := v.(float64)
	if !ok || !isNum {
		t.Fatalf("%s: want a number, got %T %v", p, v, v)
	}
	return f
}

// absent fails when p exists.
func absent(t testing.TB, doc any, p string) {
	t.Helper()
	if v, ok := path(doc, p); ok {
		t.Fatalf("%s: want absent, got %v", p, v)
	}
}

// list returns the element at p as a list (a bare object is one item).
func list(t testing.TB, doc any, p string) []any {
	t.Helper()
	v, ok := path(doc, p)
	if !ok {
		return nil
	}
	if l, isList := v.([]any); isList {
		return l
	}
	return []any{v}
}

// rels maps the rel of each link at p to its href.
func rels(t testing.TB, doc any, p string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range list(t, doc, p) {
		out[str(t, l, "@rel")] = str(t, l, "@href")
	}
	return out
}

// startChat starts a visitor chat through the Go API.
func (e *env) startChat(t testing.TB, v lpsim.VisitorSpec) string {
	t.Helper()
	id, err := e.sim.StartChat(acct, v)
	must(t, err)
	return id
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	must(t, err)
	return raw
}
