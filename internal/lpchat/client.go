package lpchat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// Client talks to the Domain, Login and Chat Agent APIs as one agent. It
// owns the agent's cookie jar (chat-agent-api.md §10), bearer and csrf.
// A Client is safe for concurrent use.
type Client struct {
	cfg Config
	log *slog.Logger
	// rt sends the requests. The client calls it itself, without an
	// http.Client: no redirect is followed (one is not part of the API, and
	// following it could replay a POST as a GET or carry the bearer
	// elsewhere), the deadline is the request's context, and the jar's
	// cookies go in and out as http.Client would do it (§10).
	rt         http.RoundTripper
	jar        http.CookieJar
	domainRoot string // DomainURL without a trailing slash
	// header holds the headers every request carries (§2.2). Requests
	// share its value slices, which nothing writes to: a request's own
	// header map is new, so the jar's Cookie never reaches this one.
	header http.Header
	// sizeHints holds, per Operation, the size of the last chunked answer
	// (no Content-Length), to read the next one into a buffer of that size.
	// The map is fixed at New; the values change.
	sizeHints map[Operation]*atomic.Int64

	mu     sync.RWMutex
	host   string // agentVep host from the domain lookup
	base   string // {base} = scheme://host/api/account/{account}
	bearer string
	csrf   string
	auth   []string // {"Bearer " + bearer}, the Authorization value; nil when logged out
}

// New returns a Client for cfg. An invalid cfg yields an error wrapping
// ErrInvalidConfig that names every problem ("invalid config: ...").
func New(cfg Config) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lpchat: %w: %w", ErrInvalidConfig, err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("lpchat: cookie jar: %w", err)
	}
	header := http.Header{
		"Accept":       {"application/json"},
		"Content-Type": {"application/json"}, // the docs list it on every call (§2.2)
	}
	if cfg.UserAgent != "" {
		header["User-Agent"] = []string{cfg.UserAgent}
	}
	hints := make(map[Operation]*atomic.Int64, len(Operations()))
	for _, op := range Operations() {
		hints[op] = new(atomic.Int64)
	}
	return &Client{
		cfg:        cfg,
		header:     header,
		sizeHints:  hints,
		log:        cfg.Logger.With(slog.String("component", "lpchat"), slog.String("account", cfg.Account)),
		rt:         cfg.Transport,
		jar:        jar,
		domainRoot: strings.TrimRight(cfg.DomainURL, "/"),
	}, nil
}

// Account returns the LivePerson account id the client works for.
func (c *Client) Account() string { return c.cfg.Account }

// CookieNames returns the names of the cookies the client's jar sends to
// the agentVep host (for diagnostics; the values are credentials and are not
// exposed). Nil before the domain lookup.
func (c *Client) CookieNames() []string {
	c.mu.RLock()
	base := c.base
	c.mu.RUnlock()
	if base == "" {
		return nil
	}
	u, err := url.Parse(base + "/")
	if err != nil {
		return nil
	}
	var names []string
	for _, ck := range c.jar.Cookies(u) {
		names = append(names, ck.Name)
	}
	return names
}

// baseURL returns {base}, doing the domain lookup first if needed.
func (c *Client) baseURL(ctx context.Context) (string, error) {
	c.mu.RLock()
	base := c.base
	c.mu.RUnlock()
	if base != "" {
		return base, nil
	}
	if _, err := c.LookupDomain(ctx); err != nil {
		return "", err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.base, nil
}

// setTokens keeps the bearer and csrf of a login ("" after a logout).
func (c *Client) setTokens(bearer, csrf string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bearer, c.csrf, c.auth = bearer, csrf, nil
	if bearer != "" {
		c.auth = []string{"Bearer " + bearer}
	}
}

// authorization returns the Authorization header's value, built once per
// login; nil when not logged in. Requests share it and never write to it.
func (c *Client) authorization() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.auth
}

// tokens returns the bearer and csrf of the current login.
func (c *Client) tokens() (bearer, csrf string) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bearer, c.csrf
}

// errNotLoggedIn is returned by calls that need a login before one happened.
var errNotLoggedIn = errors.New("not logged in")

// queryParam is one query parameter, kept in order.
type queryParam struct{ key, value string }

// apiURL appends the Chat Agent API's v=1&NC=true (§2.1) after params.
func apiURL(resource string, params ...queryParam) string {
	var b strings.Builder
	b.Grow(len(resource) + 16 + 32*len(params))
	b.WriteString(resource)
	sep := byte('?')
	if strings.IndexByte(resource, '?') >= 0 {
		sep = '&'
	}
	for _, p := range params {
		b.WriteByte(sep)
		b.WriteString(url.QueryEscape(p.key))
		b.WriteByte('=')
		b.WriteString(p.value) // escaped by the caller: commas must stay literal
		sep = '&'
	}
	b.WriteByte(sep)
	b.WriteString("v=1&NC=true")
	return b.String()
}

// redact replaces every known secret in s with "[REDACTED]".
func (c *Client) redact(s string, extra ...string) string {
	bearer, csrf := c.tokens()
	for _, secret := range append([]string{bearer, csrf}, extra...) {
		if len(secret) >= 4 { // shorter values would mangle ordinary text
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return s
}
