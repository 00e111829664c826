package tracing

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// Defaults of Config.
const (
	// DefaultServiceName is the service.name resource attribute: what a
	// tracing backend lists the bridge's spans under.
	DefaultServiceName = "lpbridge"
	// DefaultSampleRatio samples every root trace: the bridge makes a
	// handful of spans per poll interval and agent, cheap enough to keep all.
	DefaultSampleRatio = 1.0
	// DefaultURLPath is the OTLP/HTTP traces path (OTLP specification).
	DefaultURLPath = "/v1/traces"
)

// Config of Setup; zero values get the defaults in brackets.
type Config struct {
	// Endpoint of the OTLP/HTTP collector: "host:port" (https unless
	// Insecure, path /v1/traces) or a URL "http(s)://host:port[/path]"
	// (its scheme decides; an empty path means /v1/traces). Empty turns
	// tracing off [""].
	Endpoint string
	// ServiceName is the service.name resource attribute [lpbridge].
	ServiceName string
	// Insecure sends plain HTTP to a "host:port" Endpoint [false].
	Insecure bool
	// SampleRatio is the fraction of root traces sampled, in (0, 1] [1].
	// A trace continued from a caller (a command with a traceparent)
	// follows the caller's sampling decision.
	SampleRatio float64
	// Logger receives the exporter's errors (a collector that cannot be
	// reached); nil leaves them to otel's default handler (the standard
	// log package). When set, Setup installs it as otel's global error
	// handler, the one piece of global state otel offers for this.
	Logger *slog.Logger
}

// Enabled reports whether the config asks for tracing.
func (c Config) Enabled() bool { return strings.TrimSpace(c.Endpoint) != "" }

func (c *Config) setDefaults() {
	c.Endpoint = strings.TrimSpace(c.Endpoint)
	if c.ServiceName == "" {
		c.ServiceName = DefaultServiceName
	}
	if c.SampleRatio == 0 {
		c.SampleRatio = DefaultSampleRatio
	}
}

// Validate reports every problem of the config, joined. Errors never echo
// the endpoint, which may carry credentials.
func (c Config) Validate() error {
	var errs []error
	if c.Enabled() {
		if _, err := parseEndpoint(c.Endpoint, c.Insecure); err != nil {
			errs = append(errs, err)
		}
	}
	if c.SampleRatio < 0 || c.SampleRatio > 1 {
		errs = append(errs, fmt.Errorf("sample ratio %v: must be within 0..1", c.SampleRatio))
	}
	return errors.Join(errs...)
}

// endpoint is a parsed Config.Endpoint.
type endpoint struct {
	host     string // host:port
	path     string // URL path of the traces resource
	insecure bool   // plain HTTP
}

// parseEndpoint reads "host:port" or "http(s)://host:port[/path]".
func parseEndpoint(raw string, insecure bool) (endpoint, error) {
	if !strings.Contains(raw, "://") {
		if strings.ContainsAny(raw, "/@?# ") {
			return endpoint{}, errors.New("endpoint: want host:port or an http(s) URL")
		}
		return endpoint{host: raw, path: DefaultURLPath, insecure: insecure}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, errors.New("endpoint: not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return endpoint{}, fmt.Errorf("endpoint: scheme %q, want http or https", u.Scheme)
	case u.Host == "":
		return endpoint{}, errors.New("endpoint: no host")
	case u.User != nil:
		return endpoint{}, errors.New("endpoint: must not carry credentials (use OTEL_EXPORTER_OTLP_HEADERS)")
	case u.RawQuery != "" || u.Fragment != "":
		return endpoint{}, errors.New("endpoint: must not have a query or fragment")
	}
	path := u.Path
	if path == "" || path == "/" {
		path = DefaultURLPath
	}
	return endpoint{host: u.Host, path: path, insecure: u.Scheme == "http"}, nil
}
