package natstest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/testwait"
	"github.com/nats-io/nats.go/jetstream"
)

// TestClusterSurvivesLeaderLoss starts three nodes, stores messages in an
// R3 stream, shuts its leader down (another takes over, nothing stored is
// lost) and restarts it: it rejoins with its store and catches up.
func TestClusterSurvivesLeaderLoss(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	if c.Size() != 3 || len(strings.Split(c.URLs(), ",")) != 3 {
		t.Fatalf("size %d, urls %q; want 3 of each", c.Size(), c.URLs())
	}
	for i := range c.Size() {
		s := c.Server(i)
		if s == nil || !s.JetStreamIsClustered() || s.ClusterName() != natstest.ClusterName {
			t.Fatalf("node %d is not a clustered JetStream server of %s", i, natstest.ClusterName)
		}
	}
	if c.MetaLeader() < 0 {
		t.Fatal("StartCluster returned without a meta leader")
	}
	nc, js := c.Connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	publish := func(from, to int) {
		t.Helper()
		for n := from; n < to; n++ {
			testwait.Until(t, 30*time.Second, func() error {
				_, err := js.Publish(ctx, "r3.x", fmt.Appendf(nil, "%d", n), jetstream.WithMsgID(fmt.Sprint(n)))
				return err
			})
		}
	}
	publish(0, 10)

	leader := c.WaitStreamLeader(t, "R3")
	c.Shutdown(leader)
	c.Shutdown(leader) // a node that is down: nothing more
	if c.Server(leader) != nil {
		t.Fatal("Server of a node shut down is not nil")
	}
	next := c.WaitStreamLeader(t, "R3")
	if next == leader {
		t.Fatalf("node %d still leads R3 after its shutdown", leader)
	}
	publish(10, 20)

	c.Restart(leader)
	c.WaitMetaLeader(t)
	if !nc.IsConnected() {
		testwait.True(t, 30*time.Second, "the client reconnected", nc.IsConnected)
	}
	testwait.Until(t, 30*time.Second, func() error {
		s := c.Server(leader)
		if !s.JetStreamIsStreamCurrent("$G", "R3") {
			return fmt.Errorf("restarted node %s not current on R3", c.Name(leader))
		}
		return nil
	})
	publish(10, 20) // the same ids again: dropped as duplicates
	info, err := js.Stream(ctx, "R3")
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != 20 {
		t.Errorf("R3 holds %d messages after losing its leader; want 20", n)
	}
	if _, err := info.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != 20 {
		t.Errorf("R3 holds %d messages after the restart; want 20", n)
	}
}
