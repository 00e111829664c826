package lpchat

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
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
		"https://h#x/y",
		"https://h?q=/a/b",
		"https://user@h:443/p/q?r",
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

// readBody reads the whole body, sized from Content-Length or, for a
// chunked answer, from the last answer of the operation; never more than
// the limit + 1 bytes.
func TestReadBody(t *testing.T) {
	read := func(body string, length int64, hint *atomic.Int64) []byte {
		t.Helper()
		b, err := readBody(&http.Response{Body: io.NopCloser(strings.NewReader(body)), ContentLength: length}, hint)
		if err != nil || string(b) != body {
			t.Fatalf("readBody = %.40q (%d bytes), %v; want %.40q (%d bytes)", b, len(b), err, body, len(body))
		}
		return b
	}
	var hint atomic.Int64
	doc := strings.Repeat(`{"chat":"x"},`, 400) // 5200 bytes, as a poll of a few chats
	read(doc, -1, &hint)
	if hint.Load() != int64(len(doc)) {
		t.Errorf("hint after a chunked answer = %d, want %d", hint.Load(), len(doc))
	}
	if b := read(doc, -1, &hint); cap(b) != len(doc)+len(doc)/8+1 {
		t.Errorf("a chunked answer like the last one: cap %d, want one buffer of %d", cap(b), len(doc)+len(doc)/8+1)
	}
	if b := read(doc+doc, -1, &hint); hint.Load() != int64(2*len(doc)) || len(b) != 2*len(doc) {
		t.Errorf("a longer chunked answer: hint %d", hint.Load())
	}
	if b := read(doc, int64(len(doc)), &hint); cap(b) != len(doc)+1 || hint.Load() != int64(2*len(doc)) {
		t.Errorf("with Content-Length: cap %d, hint %d (a known length leaves the hint)", cap(b), hint.Load())
	}
	read("{}", -1, nil)
	if b, err := readBody(&http.Response{Body: http.NoBody}, &hint); err != nil || b != nil {
		t.Errorf("empty body = %q, %v", b, err)
	}
	over, err := readBody(&http.Response{Body: io.NopCloser(strings.NewReader(strings.Repeat("y", maxBodyBytes+10))), ContentLength: -1}, nil)
	if err != nil || len(over) != maxBodyBytes+1 {
		t.Errorf("a body above the limit: %d bytes, %v; want the limit + 1", len(over), err)
	}
	broken := &http.Response{Body: io.NopCloser(io.MultiReader(strings.NewReader("{\"cut"), iotest.ErrReader(io.ErrUnexpectedEOF))), ContentLength: -1}
	if _, err := readBody(broken, &hint); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a body that broke off: err = %v", err)
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
