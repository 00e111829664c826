package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Reconnect backoff, for the first connect and for every reconnect after
// it: a NATS restart takes a second or two, so the first retries come
// quickly; a longer outage costs one attempt every few seconds per bridge,
// not a storm of them when a whole fleet reconnects.
const (
	// reconnectMin is the wait before the first retry.
	reconnectMin = 250 * time.Millisecond
	// reconnectMax caps the wait between two retries.
	reconnectMax = 5 * time.Second
	// reconnectJitter is the largest fraction of a wait added at random, so
	// replicas that lost the server together do not retry in lockstep.
	reconnectJitter = 0.2
)

// embeddedNATS starts an in-process nats-server with JetStream on loopback.
// It is the zero-config default; a real deployment sets BRIDGE_NATS_URL.
func embeddedNATS(cfg Config, logger *slog.Logger) (*server.Server, func(), error) {
	dir := cfg.EmbeddedNATSDir
	cleanup := func() {}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "lpbridge-nats-*")
		if err != nil {
			return nil, nil, fmt.Errorf("embedded nats: %w", err)
		}
		dir = tmp
		cleanup = func() { _ = os.RemoveAll(tmp) }
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "lpbridge-embedded",
		Host:       "127.0.0.1",
		Port:       -1,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
	})
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("embedded nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		cleanup()
		return nil, nil, fmt.Errorf("embedded nats: not ready after 10s")
	}
	logger.Info("embedded nats-server started", "url", ns.ClientURL(), "store", dir)
	return ns, func() {
		ns.Shutdown()
		ns.WaitForShutdown()
		cleanup()
	}, nil
}

// natsOptions turns the NATS part of the config into connection options:
// auth, TLS, and reconnecting forever with backoff, since a bridge that gives
// up on NATS loses events. Files are checked here, so a wrong path or a
// file of the wrong kind fails the start naming its variable; their
// contents never appear in an error.
func natsOptions(cfg Config, logger *slog.Logger) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("lpbridge"),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(reconnectDelay),
		// 0 (a Config not loaded from the environment) is nats.go's default.
		nats.ReconnectBufSize(cfg.NATSReconnectBuffer),
		// A server that refuses the credentials twice while it restarts
		// (an account resolver not loaded yet) would otherwise close the
		// connection for good and leave the bridge running without NATS.
		nats.IgnoreAuthErrorAbort(),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			logger.Warn("nats disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			logger.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			logger.Warn("nats error", "subject", subject, "err", err)
		}),
	}
	var errs []error
	if cfg.NATSCredsFile != "" {
		if err := checkCredsFile(cfg.NATSCredsFile); err != nil {
			errs = append(errs, fmt.Errorf("BRIDGE_NATS_CREDS_FILE: %w", err))
		}
		opts = append(opts, nats.UserCredentials(cfg.NATSCredsFile))
	}
	if cfg.NATSNKeyFile != "" {
		opt, err := nats.NkeyOptionFromSeed(cfg.NATSNKeyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("BRIDGE_NATS_NKEY_FILE: %w", err))
		}
		opts = append(opts, opt)
	}
	if cfg.NATSUser != "" {
		opts = append(opts, nats.UserInfo(cfg.NATSUser, cfg.NATSPassword))
	} else if cfg.NATSPassword != "" {
		errs = append(errs, errors.New("BRIDGE_NATS_PASSWORD is set without BRIDGE_NATS_USER"))
	}
	if cfg.NATSToken != "" {
		opts = append(opts, nats.Token(cfg.NATSToken))
	}
	if cfg.NATSCAFile != "" {
		if err := checkCAFile(cfg.NATSCAFile); err != nil {
			errs = append(errs, fmt.Errorf("BRIDGE_NATS_CA_FILE: %w", err))
		}
		opts = append(opts, nats.RootCAs(cfg.NATSCAFile))
	}
	switch {
	case cfg.NATSCertFile != "" && cfg.NATSKeyFile != "":
		if _, err := tls.LoadX509KeyPair(cfg.NATSCertFile, cfg.NATSKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("BRIDGE_NATS_CERT_FILE, BRIDGE_NATS_KEY_FILE: %w", err))
		}
		opts = append(opts, nats.ClientCert(cfg.NATSCertFile, cfg.NATSKeyFile))
	case cfg.NATSCertFile != "" || cfg.NATSKeyFile != "":
		errs = append(errs, errors.New("set BRIDGE_NATS_CERT_FILE and BRIDGE_NATS_KEY_FILE together"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return opts, nil
}

// checkCredsFile makes sure path holds a user JWT and a user nkey seed, so
// that a wrong file is reported now and its contents are never sent to the
// server as a JWT.
func checkCredsFile(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	defer clear(raw)
	jwt, err := nkeys.ParseDecoratedJWT(raw)
	if err != nil || !bytes.Contains(raw, []byte("-----BEGIN NATS USER JWT-----")) || !strings.HasPrefix(jwt, "eyJ") {
		return errors.New("no user JWT found (want a credentials file written by nsc or jwt.FormatUserConfig)")
	}
	kp, err := nkeys.ParseDecoratedUserNKey(raw)
	if err != nil {
		return fmt.Errorf("no user nkey seed found: %w", err)
	}
	kp.Wipe()
	return nil
}

// checkCAFile makes sure path holds at least one PEM certificate.
func checkCAFile(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !x509.NewCertPool().AppendCertsFromPEM(raw) {
		return errors.New("no PEM certificate found")
	}
	return nil
}

// reconnectDelay is the wait before retry number attempts (from 1):
// doubling from reconnectMin up to reconnectMax, plus jitter.
func reconnectDelay(attempts int) time.Duration {
	d := reconnectMax
	if n := attempts - 1; n < 8 {
		d = min(reconnectMax, reconnectMin<<max(n, 0))
	}
	return d + time.Duration(rand.Float64()*reconnectJitter*float64(d))
}

// connectNATS connects to url. A server that cannot be reached (not up yet,
// restarting, DNS not ready) is waited for, retrying with backoff until ctx
// is done, so a bridge started before its NATS server waits for it. A
// server that refuses the bridge (credentials, TLS) fails the start at once
// with its reason: retrying would not change its answer. Once connected,
// the options reconnect forever.
func connectNATS(ctx context.Context, url string, opts []nats.Option, logger *slog.Logger) (*nats.Conn, error) {
	for attempt := 1; ; attempt++ {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			return nc, nil
		}
		if !unreachable(err) {
			return nil, fmt.Errorf("connect nats %s: %w", redactURL(url), err)
		}
		wait := reconnectDelay(attempt)
		logger.Warn("nats not reachable; retrying", "url", redactURL(url), "err", err, "wait", wait, "attempt", attempt)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("connect nats %s: %w (last attempt: %w)", redactURL(url), ctx.Err(), err)
		case <-t.C:
		}
	}
}

// unreachable tells a server that could not be reached, worth waiting for,
// from one that answered and refused.
func unreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.Is(err, nats.ErrNoServers) || errors.Is(err, nats.ErrTimeout) ||
		errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial")
}

// redactURL hides the user info of NATS URLs (a comma-separated list may
// carry a user and password or a token) so they can be logged.
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		at := strings.LastIndex(p, "@")
		if at < 0 {
			continue
		}
		start := 0
		if s := strings.Index(p[:at], "://"); s >= 0 {
			start = s + len("://")
		}
		parts[i] = p[:start] + "redacted" + p[at:]
	}
	return strings.Join(parts, ",")
}
