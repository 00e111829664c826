package lpchat

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// call is one logical API request; send may make several attempts.
type call struct {
	op       string // operation name for errors and logs, e.g. "send line"
	method   string // http.MethodGet or http.MethodPost
	override string // X-HTTP-Method-Override value (PUT by POST, §2.2)
	url      string // absolute URL including the query
	body     []byte // JSON body; nil for none
	bearer   bool   // send Authorization: Bearer
	kind     callKind
	secrets  []string // extra secrets (password, keys) to keep out of errors
	// name is what the request is; the request's context carries it
	// (OperationOf) for the transport's metrics.
	name Operation
}

// response is a 2xx answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send runs k under the retry policy and returns the first 2xx answer.
func (c *Client) send(ctx context.Context, k call) (*response, error) {
	path := urlPath(k.url)
	var st retryState
	for attempt := 1; ; attempt++ {
		// Every attempt waits, retries too: each one reaches the service.
		if err := c.waitBudget(ctx); err != nil {
			return nil, &APIError{Op: k.op, Method: k.method, Path: path, Attempts: attempt - 1, cause: err}
		}
		start := time.Now()
		res, sent, err := c.attempt(ctx, k)
		if err == nil && res.status >= 200 && res.status <= 299 {
			c.log.LogAttrs(ctx, slog.LevelDebug, "request",
				slog.String("op", k.op), slog.String("method", k.method), slog.String("path", path),
				slog.Int("status", res.status), slog.Int("attempt", attempt), slog.Duration("elapsed", time.Since(start)))
			return res, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			// The caller gave up; say whether the request may have happened.
			e := &APIError{Op: k.op, Method: k.method, Path: path, Attempts: attempt, cause: ctxErr}
			if k.kind.once && sent && res == nil {
				e.sentinels = []error{ErrAmbiguous}
			}
			return nil, e
		}
		if errors.Is(err, errNotLoggedIn) || errors.Is(err, errBuildRequest) {
			sentinel := ErrAuth
			if errors.Is(err, errBuildRequest) {
				sentinel = ErrBadRequest
			}
			return nil, &APIError{Op: k.op, Method: k.method, Path: path, Attempts: attempt,
				sentinels: []error{sentinel}, cause: err}
		}
		if untrustedCertificate(err) {
			// Before the retry policy: the next attempt meets the same certificate.
			e := &APIError{Op: k.op, Method: k.method, Path: path, Attempts: attempt,
				sentinels: []error{ErrCertificate}, cause: netCause(err)}
			c.log.LogAttrs(ctx, slog.LevelError, "request refused: TLS certificate not trusted",
				slog.String("op", k.op), slog.String("method", k.method), slog.String("path", path), slog.String("error", e.Error()))
			return nil, e
		}
		if errors.Is(err, errBodyTooLarge) {
			return nil, &APIError{Op: k.op, Method: k.method, Path: path, Status: res.status,
				Attempts: attempt, sentinels: []error{ErrProtocol}, cause: err}
		}
		o := outcome{netErr: err != nil, sent: sent}
		if res != nil {
			o.status = res.status
			o.retryAfter, o.hasRetry = parseRetryAfter(res.header.Get("Retry-After"), time.Now())
		}
		v := c.cfg.Retry.decide(k.kind, o, &st)
		if !v.retry {
			e := &APIError{Op: k.op, Method: k.method, Path: path, Attempts: attempt,
				sentinels: v.sentinels, cause: netCause(err)}
			if res != nil {
				e.Status = res.status
				e.RetryAfter = o.retryAfter
				e.InternalCode, e.Message = parseErrorBody(res.body)
				// Redact before cutting, so a cut never leaves part of a secret.
				e.Message = cutErrorText(c.redact(e.Message, k.secrets...))
			}
			c.log.LogAttrs(ctx, slog.LevelWarn, "request failed",
				slog.String("op", k.op), slog.String("method", k.method), slog.String("path", path),
				slog.Int("status", e.Status), slog.Int("attempt", attempt), slog.String("error", e.Error()))
			return nil, e
		}
		if c.cfg.OnRetry != nil {
			c.cfg.OnRetry(string(k.name), o.status)
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "request will be retried",
			slog.String("op", k.op), slog.String("method", k.method), slog.String("path", path),
			slog.Int("status", o.status), slog.Bool("network_error", o.netErr),
			slog.Int("attempt", attempt), slog.Duration("wait", v.wait))
		if err := sleep(ctx, v.wait); err != nil {
			return nil, &APIError{Op: k.op, Method: k.method, Path: path, Attempts: attempt, cause: err}
		}
	}
}

// errBuildRequest reports a request that could not be built (bad URL).
var errBuildRequest = errors.New("cannot build request")

// errBodyTooLarge reports a response body above maxBodyBytes.
var errBodyTooLarge = fmt.Errorf("response body above %d bytes", maxBodyBytes)

// attempt makes one HTTP request. sent reports whether the request may have
// reached the service (its headers were written); it is tracked for once
// calls only, the others report true, for it changes nothing about their
// retries. A non-nil res with a nil err is any complete answer; a non-nil
// res with errBodyTooLarge is an answer that was too big; otherwise err is
// a network or timeout failure.
func (c *Client) attempt(ctx context.Context, k call) (res *response, sent bool, err error) {
	actx, cancel := context.WithTimeout(withOperation(ctx, k.name), c.cfg.HTTPTimeout)
	defer cancel()
	var wrote *atomic.Bool
	if k.kind.once {
		wrote = new(atomic.Bool)
		actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
			WroteHeaders: func() { wrote.Store(true) },
		})
	}
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body)
	}
	req, err := http.NewRequestWithContext(actx, k.method, k.url, body)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", errBuildRequest, err)
	}
	// The values are shared: Header.Set would allocate each.
	for key, v := range c.header {
		req.Header[key] = v
	}
	if k.override != "" {
		req.Header["X-Http-Method-Override"] = []string{k.override}
	}
	if k.bearer {
		auth := c.authorization()
		if auth == nil {
			return nil, false, errNotLoggedIn
		}
		req.Header["Authorization"] = auth
	}
	resp, err := c.roundTrip(req)
	if err != nil {
		return nil, wrote == nil || wrote.Load(), err
	}
	defer resp.Body.Close()
	b, err := readBody(resp, c.sizeHints[k.name])
	if err != nil {
		// The service answered but the body broke off: it did act.
		return nil, true, err
	}
	res = &response{status: resp.StatusCode, header: resp.Header, body: b}
	if len(b) > maxBodyBytes {
		return res, true, errBodyTooLarge
	}
	return res, true, nil
}

// roundTrip sends req through the transport with the jar's cookies and
// keeps the cookies of the answer, as http.Client.Do does for a request
// whose redirects are not followed, without the copies Do makes of the
// request's URL and headers (kept for redirects).
func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	for _, ck := range c.jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close() // a RoundTripper should not return both
		}
		return nil, err
	}
	if resp == nil {
		return nil, fmt.Errorf("transport %T returned neither a response nor an error", c.rt)
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	if rc := resp.Cookies(); len(rc) > 0 {
		c.jar.SetCookies(req.URL, rc)
	}
	return resp, nil
}

// readBody reads the body to EOF (so the connection goes back to the pool),
// at most maxBodyBytes+1 bytes, into one buffer of the right size: from
// Content-Length, or for a chunked answer from the last answer of the same
// operation (hint, nil for none), which polls repeat closely. The caller
// owns the bytes.
func readBody(resp *http.Response, hint *atomic.Int64) ([]byte, error) {
	size := 512
	switch cl := resp.ContentLength; {
	case cl == 0:
		return nil, nil
	case cl > 0 && cl <= maxBodyBytes:
		size = int(cl) + 1 // +1 so the read sees EOF without growing
	case hint != nil:
		if h := hint.Load(); h > 0 {
			size = int(h) + int(h)/8 + 1 // a little longer than the last one
		}
	}
	b := make([]byte, 0, size)
	for len(b) <= maxBodyBytes {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow as append does
		}
		n, err := resp.Body.Read(b[len(b):min(cap(b), maxBodyBytes+1)])
		b = b[:len(b)+n]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			if resp.ContentLength < 0 && hint != nil && err == nil {
				hint.Store(int64(len(b)))
			}
			if len(b) == 0 {
				b = nil
			}
			return b, err
		}
	}
	return b, nil // above the limit: the caller refuses it
}

// netCause strips url.Error (which repeats the whole URL) from a network
// failure, keeping the underlying error for errors.Is/As.
func netCause(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// untrustedCertificate reports a TLS handshake that failed on the service's
// certificate, not on the network.
func untrustedCertificate(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// urlPath returns the path of an absolute URL, for errors and logs. It
// slices the string: only a path with escapes needs url.Parse to unescape.
func urlPath(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return parsedPath(raw)
	}
	i := strings.IndexAny(rest, "/?#") // the end of the host
	if i < 0 || rest[i] != '/' {
		return ""
	}
	path := rest[i:]
	if j := strings.IndexAny(path, "?#"); j >= 0 {
		path = path[:j]
	}
	if strings.IndexByte(path, '%') >= 0 {
		return parsedPath(raw)
	}
	return path
}

// parsedPath is url.Parse's path of raw, "" when it does not parse.
func parsedPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Path
}

// parseErrorBody reads the message and internal code of an error body:
// {"error": {"message", "internalCode", ...}} (Login Service, §12) or
// {"message", "internalCode"} (other LivePerson REST APIs). The client keys
// on the HTTP status; these are for humans.
func parseErrorBody(b []byte) (code int, msg string) {
	type errBody struct {
		Message      flexString `json:"message"`
		InternalCode flexInt    `json:"internalCode"`
	}
	var doc struct {
		Error json.RawMessage `json:"error"`
		errBody
	}
	if len(b) == 0 || json.Unmarshal(b, &doc) != nil {
		return 0, plainErrorText(b)
	}
	eb := doc.errBody
	if len(doc.Error) > 0 {
		var inner errBody
		if json.Unmarshal(doc.Error, &inner) == nil {
			eb = inner
		} else if s, ok := stringish(doc.Error, "message"); ok {
			eb.Message = flexString(s)
		}
	}
	return int(eb.InternalCode), string(eb.Message)
}
