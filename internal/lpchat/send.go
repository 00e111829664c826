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
// reached the service (its headers were written). A non-nil res with a nil
// err is any complete answer; a non-nil res with errBodyTooLarge is an answer
// that was too big; otherwise err is a network or timeout failure.
func (c *Client) attempt(ctx context.Context, k call) (res *response, sent bool, err error) {
	actx, cancel := context.WithTimeout(withOperation(ctx, k.name), c.cfg.HTTPTimeout)
	defer cancel()
	var wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	})
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body)
	}
	req, err := http.NewRequestWithContext(actx, k.method, k.url, body)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", errBuildRequest, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json") // the docs list it on every call (§2.2)
	if k.override != "" {
		req.Header.Set("X-HTTP-Method-Override", k.override)
	}
	if k.bearer {
		bearer, _ := c.tokens()
		if bearer == "" {
			return nil, false, errNotLoggedIn
		}
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, wrote.Load(), err
	}
	defer resp.Body.Close()
	b, err := readBody(resp)
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

// readBody reads at most maxBodyBytes+1 bytes, presizing the buffer from
// Content-Length.
func readBody(resp *http.Response) ([]byte, error) {
	size := int64(512)
	if cl := resp.ContentLength; cl > 0 && cl <= maxBodyBytes {
		size = cl + 1 // +1 so ReadFrom sees EOF without growing
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBodyBytes+1))
	return buf.Bytes(), err
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

// urlPath returns the path of an absolute URL, for errors and logs.
func urlPath(raw string) string {
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
