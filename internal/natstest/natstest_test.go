package natstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

func TestRunServer(t *testing.T) {
	s, nc, js := natstest.RunServer(t)
	if !s.JetStreamEnabled() {
		t.Fatal("JetStream disabled")
	}
	if !nc.IsConnected() || nc.ConnectedUrl() != s.ClientURL() {
		t.Fatalf("client not connected to %s", s.ClientURL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.1", []byte("x")); err != nil {
		t.Fatal(err)
	}
}

func TestStartServerOptions(t *testing.T) {
	s := natstest.StartServer(t, func(o *server.Options) { o.ServerName = "custom" })
	if s.Name() != "custom" {
		t.Errorf("server name = %q, want custom", s.Name())
	}
	if s.Addr() == nil {
		t.Error("server not listening")
	}
}
