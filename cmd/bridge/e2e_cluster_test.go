package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/state"
	"github.com/nats-io/nats.go/jetstream"
)

// TestE2EClusterStreamLeaderLoss runs two bridge processes with leases on
// a three-node NATS cluster, streams and buckets at R3
// (BRIDGE_STREAM_REPLICAS=3), reached through the list of the nodes' URLs.
// Mid-chat the node leading the event stream is shut down, and restarted
// later with its store. Every line still arrives exactly once (by
// CloudEvent id) and in per-chat order; the agent keeps one owner; both
// bridges stay (or become again) ready by themselves.
func TestE2EClusterStreamLeaderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the NATS cluster test (three nodes, two bridge processes)")
	}
	const pw = "cluster-pw-one"
	calls := &callCounter{}
	sim, simURL := startSim(t, simOptions{seed: 11, agents: e2eAgents(pw, "cluster-pw-two"), wrap: calls.wrap})
	c := natstest.StartCluster(t, 3)
	_, js := c.Connect(t)
	vars := bridgeVars(c.URLs(), simURL, botOne, pw)
	vars["POLL_INTERVAL"] = "50ms"
	// No bridge dies here: a TTL that outlasts a slow election on a loaded
	// machine keeps the one owner's renewals from giving up meanwhile.
	vars["LEASE_TTL"] = "10s"
	vars["STREAM_REPLICAS"] = "3"
	addrs := []string{fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	bridges := make([]*childBridge, 2)
	logDir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			dumpChildLogs(t, logDir)
		}
	})
	for i := range bridges {
		v := maps.Clone(vars)
		v["HTTP_ADDR"] = addrs[i]
		bridges[i] = startChild(t, v, logDir, i)
	}
	owner := waitForOwner(t, bridges, logDir, "lease acquired")
	// Once both run: the R3 stream is whole, and the consumer reads it
	// from its first message, so it misses nothing by starting now.
	c.WaitStreamLeader(t, e2eStream)
	col := collectEvents(t, nil, js)
	standby := 1 - owner

	chats := make([]string, leaseChats)
	for i := range chats {
		chats[i] = startVisitor(t, sim, lpsim.VisitorSpec{Name: fmt.Sprintf("Cluster visitor %d", i), SkillID: skillSupport})
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	talked := make(chan error, 1)
	go func() { talked <- talkLines(ctx, sim, chats) }()

	lineArrived := func(n int) func() error {
		return func() error {
			for i, chat := range chats {
				want := leaseLineText(i, n)
				if len(col.match(func(r received) bool { return r.is(events.ChatLine, chat) && r.str("text") == want })) == 0 {
					return fmt.Errorf("chat %s: no %q yet", chat, want)
				}
			}
			return nil
		}
	}
	waitUntil(t, nil, "a third of the lines", lineArrived(leaseLines/3))
	leader := c.WaitStreamLeader(t, e2eStream)
	before := streamLastSeq(t, js)
	c.Shutdown(leader)
	down := time.Now()
	t.Logf("shut down node %s, the leader of %s; %d events so far", c.Name(leader), e2eStream, before)

	waitUntil(t, nil, "the bridge publishes again, to a new leader", func() error {
		if l := c.StreamLeader(e2eStream); l < 0 || l == leader {
			return errors.New("no new leader yet")
		}
		if seq := streamLastSeq(t, js); seq <= before {
			return fmt.Errorf("stream still at #%d", seq)
		}
		return nil
	})
	t.Logf("events stored again %s after the shutdown", time.Since(down).Round(10*time.Millisecond))
	// The test's own ordered consumer notices its lost consumer only after
	// missed heartbeats (about 10 s): slower than the bridge, harmless.
	waitUntil(t, nil, "two thirds of the lines, with the node down", lineArrived(2*leaseLines/3))
	t.Logf("the test's consumer reads again %s after the shutdown", time.Since(down).Round(10*time.Millisecond))
	c.Restart(leader)

	waitForTranscripts(t, talked, col, chats)
	waitUntil(t, nil, "the restarted node catches up on the stream", func() error {
		if s := c.Server(leader); s == nil || !s.JetStreamIsStreamCurrent("$G", e2eStream) {
			return fmt.Errorf("node %s not current on %s", c.Name(leader), e2eStream)
		}
		return nil
	})
	for i, b := range bridges {
		if b.exited() {
			t.Fatalf("bridge %d exited", i)
		}
		waitUntil(t, nil, fmt.Sprintf("bridge %d ready", i), func() error {
			return wantStatus("http://"+addrs[i]+"/readyz", http.StatusOK)
		})
	}
	checkOneOwner(t, js, logDir, bridges)

	// The standby first: stopping the owner first would hand it the agent.
	for _, i := range []int{standby, owner} {
		if err := bridges[i].terminate(); err != nil {
			t.Errorf("bridge %d: %v", i, err)
		}
	}
	// One owner throughout: the agent logged in and started its session
	// once, the node's loss notwithstanding.
	if n, m := calls.logins.Load(), calls.sessions.Load(); n != 1 || m != 1 {
		t.Errorf("%d logins and %d agent sessions; want 1 of each (one owner throughout)", n, m)
	}
	got := col.all()
	t.Logf("%d events: %s; owner %d, standby %d", len(got), typeCounts(got), owner, standby)
	checkEvents(t, got)
	for i, chat := range chats {
		texts := make([]string, leaseLines)
		for n := range texts {
			texts[n] = leaseLineText(i, n+1)
		}
		checkChatOnce(t, sim, got, chat, texts)
	}
}

// streamLastSeq is the last sequence of the event stream, asked of its
// leader (0 while no leader answers).
func streamLastSeq(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, e2eStream)
	if err != nil {
		return 0
	}
	return st.CachedInfo().State.LastSeq
}

// checkOneOwner asserts that the agent's lease names one of the running
// bridges, and that every bridge that acquired it more often than it lost
// or released it is that one: two replicas never both believe they own
// the agent.
func checkOneOwner(t *testing.T, js jetstream.JetStream, logDir string, bridges []*childBridge) {
	t.Helper()
	ls, err := state.OpenLeases(t.Context(), js, state.LeasesConfig{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	rec, ok, err := ls.Holder(t.Context(), e2eAccount, events.Token(botOne))
	if err != nil || !ok {
		t.Fatalf("lease holder: %+v %v %v; want one", rec, ok, err)
	}
	holding := 0
	for n := range bridges {
		acquired := childCount(logDir, n, "lease acquired")
		lost := childCount(logDir, n, "lease lost")
		if acquired > lost {
			holding++
		}
		t.Logf("bridge %d: lease acquired %d times, lost %d times", n, acquired, lost)
		if acquired > lost+1 {
			t.Errorf("bridge %d acquired the lease %d times but lost it only %d times", n, acquired, lost)
		}
	}
	if holding != 1 {
		t.Errorf("%d bridges believe they hold the lease (held by %s); want 1", holding, rec.Owner)
	}
}

// childCount is how many times bridge n's output holds text.
func childCount(logDir string, n int, text string) int {
	raw, err := os.ReadFile(filepath.Join(logDir, fmt.Sprintf("bridge-%d.log", n)))
	if err != nil {
		return 0
	}
	return strings.Count(string(raw), text)
}
