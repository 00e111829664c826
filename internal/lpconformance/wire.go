package lpconformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// maxBody bounds what the suite reads of one answer.
const maxBody = 4 << 20

// apiQuery is the query of every Chat Agent API call (§2.1).
const apiQuery = "v=1&NC=true"

// withQuery appends a query to a URL that may carry one already (a next
// link's from=N, §2.1).
func withQuery(u, q string) string {
	if strings.Contains(u, "?") {
		return u + "&" + q
	}
	return u + "?" + q
}

// api is a Chat Agent API URL with v=1&NC=true.
func api(u string) string { return withQuery(u, apiQuery) }

// answer is one HTTP exchange, kept whole for failure messages.
type answer struct {
	method, url string
	status      int
	header      http.Header
	raw         []byte
	doc         node
}

func (a answer) String() string {
	return fmt.Sprintf("%s %s: %d %s", a.method, a.url, a.status, bytes.TrimSpace(a.raw))
}

// conn is one agent's HTTP client: its own cookie jar (§10), bearer and csrf.
type conn struct {
	t      testing.TB
	hc     *http.Client
	base   string // {base} = {scheme}://{agentVep}/api/account/{acct}
	bearer string
	csrf   string
}

func newConn(t testing.TB, tg *Target, base string) *conn {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	return &conn{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: tg.HTTPTimeout, Transport: tg.Transport}}
}

// call sends one request with the headers of §2.2 (Authorization when the
// conn has a bearer) and decodes the answer; hdr are extra name, value pairs.
// A request that gets no answer, or a 2xx whose body is not JSON, fails t.
func (c *conn) call(method, u string, body any, hdr ...string) answer {
	c.t.Helper()
	a, err := c.send(method, u, body, hdr...)
	if err != nil {
		c.t.Fatal(err)
	}
	return a
}

// send is call without failing t, for the clean-ups.
func (c *conn) send(method, u string, body any, hdr ...string) (answer, error) {
	a := answer{method: method, url: u}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return a, fmt.Errorf("encode body of %s %s: %w", method, u, err)
		}
		rd = bytes.NewReader(b)
	}
	// Not cancelled with the test: the clean-ups (Away, logout) run after
	// t.Context ends; the client's timeout bounds every request.
	req, err := http.NewRequestWithContext(context.WithoutCancel(c.t.Context()), method, u, rd)
	if err != nil {
		return a, fmt.Errorf("%s %s: %w", method, u, err)
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
		return a, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer res.Body.Close()
	a.status, a.header = res.StatusCode, res.Header
	if a.raw, err = io.ReadAll(io.LimitReader(res.Body, maxBody)); err != nil {
		return a, fmt.Errorf("%s %s: read: %w", method, u, err)
	}
	if res.StatusCode/100 == 2 {
		if a.doc, err = decodeNode(a.raw); err != nil {
			return a, fmt.Errorf("%s: the body is not JSON: %w", a, err)
		}
	}
	return a, nil
}

// get, post and put are call with the API query; put is POST +
// X-HTTP-Method-Override: PUT, the documented way (§2.2).
func (c *conn) get(u string) answer {
	c.t.Helper()
	return c.call(http.MethodGet, api(u), nil)
}

func (c *conn) post(u string, body any) answer {
	c.t.Helper()
	return c.call(http.MethodPost, api(u), body)
}

func (c *conn) put(u string, body any) answer {
	c.t.Helper()
	return c.call(http.MethodPost, api(u), body, "X-HTTP-Method-Override", http.MethodPut)
}

// want fails t unless the answer has one of the statuses.
func want(t testing.TB, a answer, statuses ...int) answer {
	t.Helper()
	for _, s := range statuses {
		if a.status == s {
			return a
		}
	}
	t.Fatalf("%s; want status %v", a, statuses)
	return a
}

// wantEmpty fails t unless a 200 answer has an empty body (refresh and
// logout, §4.4, §4.5).
func wantEmpty(t testing.TB, a answer) {
	t.Helper()
	want(t, a, http.StatusOK)
	if len(bytes.TrimSpace(a.raw)) != 0 {
		t.Errorf("%s; want an empty body", a)
	}
}

// link is one relation link (§2.3 rule 2).
type link struct{ rel, href string }

// links reads a link element (one or many, either spelling) and checks
// each href: absolute, without v or NC (§2.1).
func links(t testing.TB, n node) []link {
	t.Helper()
	var out []link
	for _, l := range n.items() {
		lk := link{href: mustText(t, l.key("@href", "href"))}
		lk.rel, _ = l.key("@rel", "rel").text()
		u, err := url.Parse(lk.href)
		if err != nil || !u.IsAbs() || u.Host == "" {
			t.Fatalf("%s: href %q is not an absolute URL (§2.1)", l.path, lk.href)
		}
		if q := u.Query(); q.Has("v") || q.Has("NC") {
			t.Errorf("%s: href %q carries v or NC; links carry neither (§2.1)", l.path, lk.href)
		}
		out = append(out, lk)
	}
	return out
}

// rel returns the href of a relation, failing t when it is missing.
func rel(t testing.TB, ls []link, name string) string {
	t.Helper()
	for _, l := range ls {
		if l.rel == name {
			return l.href
		}
	}
	t.Fatalf("no link with rel %q in %v", name, ls)
	return ""
}

// location reads {"<key>": {"link": {"@href", "@rel": "location"}}}, the
// answer of every create (§5.1, §5.9, §5.14, §5.15).
func location(t testing.TB, a answer, key string) string {
	t.Helper()
	ls := links(t, a.doc.key(key).key("link"))
	if len(ls) != 1 {
		t.Fatalf("%s; want %s.link, one location link", a, key)
	}
	if ls[0].rel != "location" {
		t.Errorf("%s; want rel location", a)
	}
	return ls[0].href
}

// lastSegment is the id at the end of a resource URL.
func lastSegment(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return u[strings.LastIndex(u, "/")+1:]
}

// fromOf is the from=N of a next link, or -1.
func fromOf(t testing.TB, href string) int64 {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil {
		t.Fatalf("next link %q: %v", href, err)
	}
	v := u.Query().Get("from")
	if v == "" {
		return -1
	}
	n, ok := node{v: v}.number()
	if !ok {
		t.Fatalf("next link %q: from is not a number", href)
	}
	return n
}
