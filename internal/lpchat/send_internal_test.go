package lpchat

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// urlPath slices the path out of the URL; it must say what url.Parse says.
func TestURLPathAsURLParse(t *testing.T) {
	for _, raw := range []string{
		"https://va.agentvep.liveperson.net/api/account/55500011/agentSession/2038801122/chat?chatSessionKeys=a,b&v=1&NC=true",
		"http://127.0.0.1:8280/api/account/55500011/login?v=1.3",
		"https://api.liveperson.net/api/account/55500011/service/agentVep/baseURI.json?version=1.0",
		"https://h/api/account/1/agentSession/a%2Fb/chat/c%20d/events?from=3",
		"https://h/api/account/1/refresh",
		"https://h/api/x#frag",
		"https://h",
		"https://h?x=1",
		"/relative/path?q",
		"::not a url",
	} {
		want := ""
		if u, err := url.Parse(raw); err == nil {
			want = u.Path
		}
		if got := urlPath(raw); got != want {
			t.Errorf("urlPath(%q) = %q, url.Parse says %q", raw, got, want)
		}
	}
}

// The body read into the reused buffer is copied out: a later read never
// changes an earlier answer, with or without Content-Length.
func TestReadBodyOwnsItsBytes(t *testing.T) {
	c, err := New(Config{Account: "1"})
	if err != nil {
		t.Fatal(err)
	}
	read := func(body string, length int64) []byte {
		t.Helper()
		b, err := c.readBody(&http.Response{Body: io.NopCloser(strings.NewReader(body)), ContentLength: length})
		if err != nil || string(b) != body {
			t.Fatalf("readBody = %q, %v; want %q", b, err, body)
		}
		return b
	}
	first := read(`{"first":"answer"}`, -1)
	second := read(`{"second":"answer, longer than the first"}`, 43)
	big := strings.Repeat("x", maxPooledBuffer+1)
	read(big, -1)
	third := read(`{}`, 2)
	if string(first) != `{"first":"answer"}` || !bytes.HasPrefix(second, []byte(`{"second"`)) || string(third) != `{}` {
		t.Errorf("answers changed: %q %q %q", first, second, third)
	}
	if b, err := c.readBody(&http.Response{Body: http.NoBody}); err != nil || b != nil {
		t.Errorf("empty body = %q, %v", b, err)
	}
	over, err := c.readBody(&http.Response{Body: io.NopCloser(strings.NewReader(strings.Repeat("y", maxBodyBytes+10))), ContentLength: -1})
	if err != nil || len(over) != maxBodyBytes+1 {
		t.Errorf("a body above the limit: %d bytes, %v; want the limit + 1", len(over), err)
	}
}

// The headers requests share stay as built: the jar's Cookie, the bearer
// and the method override go into each request's own header map.
func TestSharedHeadersStayUntouched(t *testing.T) {
	var cookies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookies = append(cookies, r.Header.Get("Cookie"))
		http.SetCookie(w, &http.Cookie{Name: "Session_id", Value: "c1", Path: "/"})
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{DomainURL: srv.URL, Account: "1", AllowInsecureHTTP: true, UserAgent: "ua/1"})
	if err != nil {
		t.Fatal(err)
	}
	c.setTokens("bearer-0123456789", "csrf-0123456789")
	for range 3 {
		if _, err := c.send(t.Context(), call{name: OpAvailabilitySet, op: "test", method: http.MethodPost,
			override: "PUT", url: srv.URL + "/x", body: []byte(`{}`), bearer: true}); err != nil {
			t.Fatal(err)
		}
	}
	want := http.Header{"Accept": {"application/json"}, "Content-Type": {"application/json"}, "User-Agent": {"ua/1"}}
	if !reflect.DeepEqual(c.header, want) {
		t.Errorf("shared headers = %v, want %v", c.header, want)
	}
	if cookies[2] != "Session_id=c1" {
		t.Errorf("third request's Cookie = %q, want the one cookie once", cookies[2])
	}
}
