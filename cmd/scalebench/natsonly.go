package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// natsReadyTimeout bounds a fresh server's start on a busy machine.
const natsReadyTimeout = 20 * time.Second

// natsURLPrefix starts the line on which -nats-only announces its URL.
const natsURLPrefix = "scalebench nats: "

// runNATS serves an embedded nats-server with JetStream on 127.0.0.1 and a
// random port until ctx is done: the bench runs it as its own process, so its
// CPU is measured apart from the bridge's and the bench's.
func runNATS(ctx context.Context, storeDir string, stdout io.Writer) error {
	if storeDir == "" {
		return errors.New("-nats-only needs -nats-dir")
	}
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: storeDir, NoLog: true, NoSigs: true,
	})
	if err != nil {
		return fmt.Errorf("nats-server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(natsReadyTimeout) {
		s.Shutdown()
		return fmt.Errorf("nats-server not ready within %s", natsReadyTimeout)
	}
	fmt.Fprintln(stdout, natsURLPrefix+s.ClientURL())
	<-ctx.Done()
	s.Shutdown()
	s.WaitForShutdown()
	return nil
}
