package lpsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBody caps request bodies; the API's bodies are small.
const maxBody = 1 << 20

// call is one API request, read and parsed before the model is locked.
type call struct {
	r      *http.Request
	method string   // effective method: X-HTTP-Method-Override on POST wins
	segs   []string // path segments, ".json" suffix removed
	query  url.Values
	body   []byte
	base   string // scheme://host of absolute links
	now    time.Time
}

// newCall reads r. The returned reply is non-nil when r cannot be served.
func newCall(r *http.Request) (*call, *reply) {
	c := &call{r: r, method: r.Method, query: r.URL.Query()}
	if o := r.Header.Get("X-HTTP-Method-Override"); o != "" && r.Method == http.MethodPost {
		c.method = strings.ToUpper(o)
	}
	path := strings.TrimSuffix(r.URL.Path, ".json")
	c.segs = strings.Split(strings.Trim(path, "/"), "/")
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	c.base = scheme + "://" + r.Host
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			rep := errReply(time.Now(), http.StatusBadRequest, "cannot read request body")
			return nil, &rep
		}
		if len(b) > maxBody {
			rep := errReply(time.Now(), http.StatusRequestEntityTooLarge, "request body too large")
			return nil, &rep
		}
		c.body = b
	}
	return c, nil
}

// decode parses the JSON body into v. An empty body is an error unless
// allowEmpty.
func (c *call) decode(v any, allowEmpty bool) *reply {
	if len(bytes.TrimSpace(c.body)) == 0 {
		if allowEmpty {
			return nil
		}
		rep := errReply(c.now, http.StatusBadRequest, "request body is empty")
		return &rep
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		rep := errReply(c.now, http.StatusBadRequest, fmt.Sprintf("malformed JSON body: %v", err))
		return &rep
	}
	return nil
}

// reply is what a handler answers; it is written after the model is unlocked.
type reply struct {
	status  int
	body    any // JSON-encoded; nil = empty body
	header  http.Header
	cookies []*http.Cookie
}

func answer(status int, body any) reply { return reply{status: status, body: body} }

// created answers 201 with a location document under key and a Location
// header.
func created(key, href string) reply {
	rep := reply{status: http.StatusCreated, body: map[string]linkDoc{key: {Link: link{Href: href, Rel: "location"}}}}
	rep.header = http.Header{"Location": {href}}
	return rep
}

// errReply answers status with the error body of §12.
func errReply(now time.Time, status int, msg string) reply {
	return codeReply(now, status, status, msg)
}

func codeReply(now time.Time, status, code int, msg string) reply {
	return reply{status: status, body: errorDoc{Error: errorBody{
		Time: now.Format(humanLayout), Message: msg, InternalCode: code, ResponseStatus: statusName(status),
	}}}
}

func (c *call) fail(status int, format string, args ...any) reply {
	return errReply(c.now, status, fmt.Sprintf(format, args...))
}

func (c *call) notFound() reply { return c.fail(http.StatusNotFound, "no such resource") }

// methodNotAllowed answers 405 naming the methods the resource takes.
func (c *call) methodNotAllowed(allowed ...string) reply {
	rep := c.fail(http.StatusMethodNotAllowed, "method %s not allowed; use %s (PUT as POST with X-HTTP-Method-Override: PUT)",
		c.method, strings.Join(allowed, ", "))
	rep.header = http.Header{"Allow": {strings.Join(allowed, ", ")}}
	return rep
}

func writeReply(w http.ResponseWriter, rep reply) { writeReplyWith(w, rep, nil) }

// maxPooledBuffer caps the scratch buffers kept for reuse: a poll's answer
// is some 16 KiB; an odd huge one is left to the collector.
const maxPooledBuffer = 256 << 10

// writeReplyWith writes rep; scratch, if not nil, is a buffer to render a
// hand-written body into, and gets the grown buffer back.
func writeReplyWith(w http.ResponseWriter, rep reply, scratch *[]byte) {
	h := w.Header()
	for k, vs := range rep.header {
		h[k] = vs
	}
	for _, ck := range rep.cookies {
		http.SetCookie(w, ck)
	}
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	if text, ok := rep.body.(plainText); ok {
		text.write(w, rep.status)
		return
	}
	if a, ok := rep.body.(jsonAppender); ok {
		var b []byte
		if scratch != nil {
			b = (*scratch)[:0]
		}
		b = append(a.appendJSON(b), '\n') // as json.Encoder ends a value
		h.Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		_, _ = w.Write(b)
		if scratch != nil && cap(b) <= maxPooledBuffer {
			*scratch = b
		}
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // html lines stay readable
	if err := enc.Encode(rep.body); err != nil {
		http.Error(w, `{"error":{"message":"cannot encode response"}}`, http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write(buf.Bytes())
}
