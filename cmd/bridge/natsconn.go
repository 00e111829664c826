package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
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
// up on NATS loses events.
func natsOptions(cfg Config, logger *slog.Logger) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("lpbridge"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, 2*time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			logger.Warn("nats disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			logger.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
	}
	if cfg.NATSCredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.NATSCredsFile))
	}
	if cfg.NATSNKeyFile != "" {
		opt, err := nats.NkeyOptionFromSeed(cfg.NATSNKeyFile)
		if err != nil {
			return nil, fmt.Errorf("BRIDGE_NATS_NKEY_FILE: %w", err)
		}
		opts = append(opts, opt)
	}
	if cfg.NATSUser != "" {
		opts = append(opts, nats.UserInfo(cfg.NATSUser, cfg.NATSPassword))
	}
	if cfg.NATSToken != "" {
		opts = append(opts, nats.Token(cfg.NATSToken))
	}
	if cfg.NATSCAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.NATSCAFile))
	}
	if cfg.NATSCertFile != "" || cfg.NATSKeyFile != "" {
		opts = append(opts, nats.ClientCert(cfg.NATSCertFile, cfg.NATSKeyFile))
	}
	return opts, nil
}

// connectNATS connects to url, retrying until ctx is done so a bridge started
// before its NATS server waits for it instead of exiting.
func connectNATS(ctx context.Context, url string, opts []nats.Option) (*nats.Conn, error) {
	opts = append(opts, nats.RetryOnFailedConnect(true))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	for !nc.IsConnected() {
		select {
		case <-ctx.Done():
			nc.Close()
			return nil, fmt.Errorf("connect nats: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nc, nil
}
