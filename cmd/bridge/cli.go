package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Exit codes of the subcommands.
const (
	exitOK    = 0
	exitError = 1 // NATS unreachable, nothing found, a failed publish
	exitUsage = 2 // bad flags or arguments (as the flag package uses)
)

// cliConnectTimeout bounds the first connect of a subcommand: a person is
// waiting, so an unreachable server is reported rather than waited for.
const cliConnectTimeout = 5 * time.Second

// ErrNATSUnavailable is what a subcommand returns when it cannot connect to
// NATS; the *NATSUnavailableError says which URL (without credentials).
var ErrNATSUnavailable = errors.New("nats not available")

// NATSUnavailableError names the NATS URL a subcommand could not use.
type NATSUnavailableError struct {
	URL string // redacted
	Err error
}

func (e *NATSUnavailableError) Error() string {
	return fmt.Sprintf("cannot connect to NATS at %s: %v", e.URL, e.Err)
}

// Unwrap lets errors.Is match ErrNATSUnavailable and the cause.
func (e *NATSUnavailableError) Unwrap() []error { return []error{ErrNATSUnavailable, e.Err} }

// errUsage marks errors in flags or arguments (exit code 2).
var errUsage = errors.New("usage")

// subcommand is one of the commands working on the stream and KV only.
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

func subcommands() []subcommand {
	return []subcommand{
		{"tail", "print events live (or from a time / the last N), filtered by agent, chat or type", runTail},
		{"chat", "print one chat's events from the stream, in order, and its transcript", runChat},
		{"replay", "re-publish one chat's or one time window's events under another subject prefix", runReplay},
		{"agents", "who owns which agent, its last event and cursor lag", runAgents},
	}
}

// cli is what every subcommand shares: the BRIDGE_* config, the output and
// (after connect) the NATS connection.
type cli struct {
	cfg    Config
	stdout io.Writer
	stderr io.Writer
	nc     *nats.Conn
	js     jetstream.JetStream
}

// runSubcommand runs args[0] as a subcommand when it names one; handled is
// false otherwise (the bridge itself runs). code is the exit code.
func runSubcommand(ctx context.Context, args []string, stdout, stderr io.Writer) (code int, handled bool) {
	if len(args) == 0 {
		return exitOK, false
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		printUsage(stderr)
		return exitOK, true
	}
	for _, sc := range subcommands() {
		if sc.name != name {
			continue
		}
		var cfg Config
		if err := envconfig.Process(envPrefix, &cfg); err != nil {
			fmt.Fprintln(stderr, "lpbridge:", fmt.Errorf("invalid config: %w", err))
			return exitUsage, true
		}
		c := &cli{cfg: cfg, stdout: stdout, stderr: stderr}
		defer c.close()
		err := sc.run(ctx, c, args[1:])
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return exitOK, true
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "lpbridge %s: %v\n", name, err)
			return exitUsage, true
		default:
			fmt.Fprintf(stderr, "lpbridge %s: %v\n", name, err)
			return exitError, true
		}
	}
	if !strings.HasPrefix(name, "-") {
		fmt.Fprintf(stderr, "lpbridge: unknown subcommand %q\n", name)
		printUsage(stderr)
		return exitUsage, true
	}
	return exitOK, false
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: lpbridge                 run the bridge (configured by BRIDGE_* variables)")
	fmt.Fprintln(w, "       lpbridge <subcommand> -h  help of a subcommand")
	fmt.Fprintln(w, "subcommands (stream and KV only, no LivePerson access):")
	for _, sc := range subcommands() {
		fmt.Fprintf(w, "  %-7s %s\n", sc.name, sc.summary)
	}
}

// flags starts a subcommand's flag set with the flags all of them share.
func (c *cli) flags(name, usage string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("lpbridge "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	natsURL := fs.String("nats", c.cfg.NATSURL, "NATS server URL (default $BRIDGE_NATS_URL, else "+nats.DefaultURL+"); auth and TLS come from BRIDGE_NATS_*")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: lpbridge %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs, natsURL
}

// parse parses args; a flag error is a usage error (the flag package has
// printed it with the usage already).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return nil
}

// connect connects to NATS with the bridge's auth and TLS settings. It does
// not wait for an unreachable server as the bridge does.
func (c *cli) connect(ctx context.Context, url string) error {
	if url == "" {
		url = nats.DefaultURL
	}
	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts, err := natsOptions(c.cfg, logger)
	if err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	opts = append(opts, nats.Name("lpbridge-cli"), nats.Timeout(cliConnectTimeout),
		// Closing at the end is no news; losing the server midway is.
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logger.Warn("nats disconnected", "err", err)
			}
		}))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return &NATSUnavailableError{URL: redactURL(url), Err: err}
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("jetstream: %w", err)
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		nc.Close()
		return &NATSUnavailableError{URL: redactURL(url), Err: fmt.Errorf("jetstream: %w", err)}
	}
	c.nc, c.js = nc, js
	return nil
}

func (c *cli) close() {
	if c.nc != nil {
		c.nc.Close()
	}
}

// stream binds to the event stream (BRIDGE_STREAM_NAME); it never creates it.
func (c *cli) stream(ctx context.Context) (jetstream.Stream, error) {
	st, err := c.js.Stream(ctx, c.cfg.StreamName)
	if err != nil {
		return nil, fmt.Errorf("event stream %s: %w", c.cfg.StreamName, err)
	}
	return st, nil
}

// parseTime reads a start or end time: RFC 3339, or a duration meaning that
// long ago ("10m").
func parseTime(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: time %q: want RFC 3339 (2024-03-04T10:00:00Z) or a duration ago (10m)", errUsage, s)
	}
	return t, nil
}
