// Package natstest runs an embedded NATS server with JetStream for tests.
//
// Every server listens on 127.0.0.1 on a random port, stores JetStream data
// in a per-test temporary directory and is shut down by t.Cleanup, so tests
// that use it can run in parallel.
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// readyTimeout bounds how long a fresh server may take to accept clients;
// generous because the test machine is shared and runs with -race.
const readyTimeout = 10 * time.Second

// RunServer starts an embedded nats-server with JetStream, connects a client
// to it and returns the server, the connection and a JetStream handle.
// Everything is closed when the test ends.
func RunServer(t testing.TB) (*server.Server, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	s := StartServer(t)
	nc, js := Connect(t, s)
	return s, nc, js
}

// StartServer starts an embedded nats-server with JetStream on 127.0.0.1 and a
// random port, without connecting to it. opts may adjust the options before
// the server starts. The server is shut down when the test ends.
func StartServer(t testing.TB, opts ...func(*server.Options)) *server.Server {
	t.Helper()
	o := &server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	}
	for _, opt := range opts {
		opt(o)
	}
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatalf("natstest: new server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		t.Fatalf("natstest: server not ready within %s", readyTimeout)
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// Connect opens a client connection with JetStream to s. opts are passed to
// nats.Connect after the defaults (a name, and a short reconnect wait).
// The connection is closed when the test ends.
func Connect(t testing.TB, s *server.Server, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	all := append([]nats.Option{
		nats.Name("natstest " + t.Name()),
		nats.ReconnectWait(50 * time.Millisecond),
	}, opts...)
	nc, err := nats.Connect(s.ClientURL(), all...)
	if err != nil {
		t.Fatalf("natstest: connect %s: %v", s.ClientURL(), err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return nc, js
}
