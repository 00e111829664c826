package lpchat

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// DefaultDomainURL is LivePerson's Domain API (CSDS) host (chat-agent-api.md §3).
const DefaultDomainURL = "https://api.liveperson.net"

// DefaultHTTPTimeout bounds one HTTP request: the API never holds a request
// open (§8, no long-poll), so 30 s only trips on a stuck connection.
const DefaultHTTPTimeout = 30 * time.Second

// maxBodyBytes bounds a response body read into memory; the largest documents
// (a long chat's events) stay far below it.
const maxBodyBytes = 8 << 20

// Config of a Client. One Client per agent: it owns the agent's cookie jar,
// bearer and csrf; the agents of an account share one Transport.
type Config struct {
	// DomainURL is the Domain API base; default DefaultDomainURL. E.g.
	// "http://127.0.0.1:8280" for the simulator (needs AllowInsecureHTTP).
	DomainURL string
	// Account is the LivePerson account id. Required.
	Account string
	// AllowInsecureHTTP permits a plain-HTTP DomainURL and agentVep host
	// (simulator, tests). Without it only https is used: the agentVep host
	// from the domain lookup is used with https, or with the DomainURL's
	// scheme when insecure HTTP is allowed. Default false.
	AllowInsecureHTTP bool
	// Retry is the retry policy; a zero RetryPolicy means DefaultRetryPolicy().
	Retry RetryPolicy
	// HTTPTimeout bounds each HTTP request (one attempt); default DefaultHTTPTimeout.
	HTTPTimeout time.Duration
	// Transport sends the requests. Give the clients of one account the
	// same one, from NewTransport sized for their number: they then share
	// one connection pool and TLS session cache (cookies stay per Client).
	// Default a NewTransport of its own (one agent).
	Transport http.RoundTripper
	// Logger receives debug logs of requests and warnings on retries;
	// default discards. Secrets are never logged.
	Logger *slog.Logger
	// UserAgent is sent as User-Agent when set; default Go's.
	UserAgent string
	// Budget, when set, is waited on before every HTTP request the client
	// sends (each attempt: retries included, domain lookup and login too),
	// so that it bounds everything the account asks of LivePerson. Share
	// one among the clients of an account. A wait cut off by the caller's
	// context ends the call with that context's error; it is not retried.
	// Default nil: unlimited.
	Budget Budget
	// OnRetry, when set, is called before each retry the retry policy
	// makes, with the failed attempt's Operation name and status (0: no
	// response arrived). For metrics, e.g. telemetry.Metrics.LPRetryRequest.
	// It runs on the caller's goroutine and must not block. Default nil.
	OnRetry func(operation string, status int)
}

// RetryPolicy is LivePerson's retry recommendation (§9) as data.
//
// A zero RetryPolicy means DefaultRetryPolicy(); any other value is used as
// given (so an empty, non-nil ServerBackoff means "never retry 5xx").
type RetryPolicy struct {
	// ServerBackoff holds the waits before each retry of a 5xx answer or a
	// network error; its length is the number of retries. Default 5s, 10s, 15s.
	ServerBackoff []time.Duration
	// MinRetryAfter is the least wait on 429; default 1 s.
	MinRetryAfter time.Duration
	// LoginMinRetryAfter is the least wait on 429 for login; default 5 s.
	LoginMinRetryAfter time.Duration
	// Max429Retries is how many times a 429 is retried; default 3.
	Max429Retries int
	// MaxRetryAfter caps how long the client itself waits on one 429 or 503
	// Retry-After: a longer request ends the call with ErrRateLimited (or
	// ErrServer) carrying RetryAfter, for the caller's slower outer loop.
	// Zero means no cap. Default 2 minutes (the outer loop's period in §9).
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy returns LivePerson's recommended policy (§9).
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		ServerBackoff:      []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second},
		MinRetryAfter:      time.Second,
		LoginMinRetryAfter: 5 * time.Second,
		Max429Retries:      3,
		MaxRetryAfter:      2 * time.Minute,
	}
}

// isZero reports whether p is the zero RetryPolicy.
func (p RetryPolicy) isZero() bool {
	return p.ServerBackoff == nil && p.MinRetryAfter == 0 && p.LoginMinRetryAfter == 0 &&
		p.Max429Retries == 0 && p.MaxRetryAfter == 0
}

// validate returns every problem of p.
func (p RetryPolicy) validate() []error {
	var errs []error
	for i, d := range p.ServerBackoff {
		if d < 0 {
			errs = append(errs, fmt.Errorf("Retry.ServerBackoff[%d] is negative", i))
		}
	}
	if p.MinRetryAfter < 0 {
		errs = append(errs, errors.New("Retry.MinRetryAfter is negative"))
	}
	if p.LoginMinRetryAfter < 0 {
		errs = append(errs, errors.New("Retry.LoginMinRetryAfter is negative"))
	}
	if p.Max429Retries < 0 {
		errs = append(errs, errors.New("Retry.Max429Retries is negative"))
	}
	if p.MaxRetryAfter < 0 {
		errs = append(errs, errors.New("Retry.MaxRetryAfter is negative"))
	}
	return errs
}

// accountPattern keeps the account id safe to put into a URL path. Real
// account ids are digits; the simulator may use other tokens.
var accountPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// setDefaults fills the zero fields of c.
func (c *Config) setDefaults() {
	if c.DomainURL == "" {
		c.DomainURL = DefaultDomainURL
	}
	if c.Retry.isZero() {
		c.Retry = DefaultRetryPolicy()
	}
	if c.HTTPTimeout == 0 {
		c.HTTPTimeout = DefaultHTTPTimeout
	}
	if c.Transport == nil {
		c.Transport = NewTransport(TransportConfig{})
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Validate returns every problem of c joined with errors.Join, or nil.
func (c Config) Validate() error {
	var errs []error
	if c.Account == "" {
		errs = append(errs, errors.New("Account is required"))
	} else if !accountPattern.MatchString(c.Account) {
		errs = append(errs, errors.New("Account must be 1-64 letters, digits, '.', '_' or '-'"))
	}
	if err := c.validateDomainURL(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.Retry.validate()...)
	if c.HTTPTimeout < 0 {
		errs = append(errs, errors.New("HTTPTimeout is negative"))
	}
	return errors.Join(errs...)
}

// validateDomainURL checks DomainURL is an absolute https URL (or http when
// allowed) without credentials, query or fragment.
func (c Config) validateDomainURL() error {
	if c.DomainURL == "" {
		return nil // the default is used
	}
	u, err := url.Parse(c.DomainURL)
	if err != nil {
		return errors.New("DomainURL does not parse as a URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.AllowInsecureHTTP:
	case u.Scheme == "http":
		return errors.New("DomainURL must use https (set AllowInsecureHTTP for a plain-HTTP simulator)")
	default:
		return fmt.Errorf("DomainURL scheme %q is not https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("DomainURL has no host")
	}
	if u.User != nil {
		return errors.New("DomainURL must not carry credentials")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("DomainURL must not have a query or fragment")
	}
	return nil
}
