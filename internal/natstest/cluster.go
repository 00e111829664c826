package natstest

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/testwait"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// clusterWait bounds how long a cluster may take to elect a leader (of
// the JetStream meta group, or of one stream): an election takes a few
// seconds by itself, more on a loaded machine under -race.
const clusterWait = 30 * time.Second

// ClusterName is the name of every cluster StartCluster starts.
const ClusterName = "natstest"

// Cluster is a NATS cluster of embedded servers with JetStream, all in the
// test's process, on 127.0.0.1. Each node keeps its ports and its store
// directory for the whole test, so a node shut down and started again
// rejoins the cluster with what it stored. It is safe for concurrent use.
type Cluster struct {
	t     testing.TB
	nodes []*clusterNode
}

// clusterNode is one server of a Cluster: what it needs to start again
// the same, and the running server (nil while it is down).
type clusterNode struct {
	name        string
	port        int // client port
	clusterPort int
	storeDir    string

	mu  sync.Mutex
	srv *server.Server
}

// StartCluster starts n servers (n >= 2; 3 to survive the loss of one) that
// form one cluster named ClusterName, and waits until JetStream has elected
// a meta leader, so streams can be created. Every node is shut down when
// the test ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 2 {
		t.Fatalf("natstest: cluster of %d nodes", n)
	}
	c := &Cluster{t: t, nodes: make([]*clusterNode, n)}
	ports := freePorts(t, 2*n)
	for i := range c.nodes {
		c.nodes[i] = &clusterNode{
			name:        fmt.Sprintf("n%d", i),
			port:        ports[2*i],
			clusterPort: ports[2*i+1],
			storeDir:    t.TempDir(),
		}
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.stop(i)
		}
	})
	// All at once: a node waits for its peers before it elects anything.
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range c.nodes {
		wg.Go(func() { errs[i] = c.start(i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("natstest: %v", err)
		}
	}
	c.WaitMetaLeader(t)
	return c
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. They are free
// when it returns; a node keeps its ports across restarts.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("natstest: free port: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// options are node i's server options; built anew for every start, since
// a server keeps and changes the options it was given.
func (c *Cluster) options(i int) *server.Options {
	nd := c.nodes[i]
	var routes []*url.URL
	for j, other := range c.nodes {
		if j != i {
			routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", other.clusterPort)})
		}
	}
	return &server.Options{
		ServerName: nd.name,
		Host:       "127.0.0.1",
		Port:       nd.port,
		JetStream:  true,
		StoreDir:   nd.storeDir,
		NoLog:      true,
		NoSigs:     true,
		Cluster: server.ClusterOpts{
			Name: ClusterName,
			Host: "127.0.0.1",
			Port: nd.clusterPort,
		},
		Routes: routes,
	}
}

// start starts node i, which must be down.
func (c *Cluster) start(i int) error {
	nd := c.nodes[i]
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.srv != nil {
		return fmt.Errorf("node %s is running", nd.name)
	}
	s, err := server.NewServer(c.options(i))
	if err != nil {
		return fmt.Errorf("node %s: %w", nd.name, err)
	}
	go s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		s.WaitForShutdown()
		return fmt.Errorf("node %s not ready within %s", nd.name, readyTimeout)
	}
	nd.srv = s
	return nil
}

// stop shuts node i down, if it runs.
func (c *Cluster) stop(i int) {
	nd := c.nodes[i]
	nd.mu.Lock()
	s := nd.srv
	nd.srv = nil
	nd.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Size is the number of nodes, running or not.
func (c *Cluster) Size() int { return len(c.nodes) }

// Server returns node i's running server, or nil while it is down.
func (c *Cluster) Server(i int) *server.Server {
	nd := c.nodes[i]
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.srv
}

// Name is node i's server name.
func (c *Cluster) Name(i int) string { return c.nodes[i].name }

// Shutdown stops node i, as a crashed or restarted NATS node would be gone
// (its store stays for Restart). Shutting down a node that is down does
// nothing.
func (c *Cluster) Shutdown(i int) {
	c.t.Helper()
	c.stop(i)
}

// Restart starts node i again after Shutdown, on the same ports and with
// the same store, so it rejoins the cluster with what it kept.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if err := c.start(i); err != nil {
		c.t.Fatalf("natstest: restart: %v", err)
	}
}

// URLs is the comma-separated client URL of every node, as nats.Connect
// and BRIDGE_NATS_URL take it: a client reaches whichever node is up.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.nodes))
	for i, nd := range c.nodes {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", nd.port)
	}
	return strings.Join(urls, ",")
}

// Connect opens a client connection with JetStream to the cluster (any
// node, reconnecting to another when it goes), closed when the test ends.
// opts are passed to nats.Connect after the defaults.
func (c *Cluster) Connect(t testing.TB, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	all := append([]nats.Option{
		nats.Name("natstest " + t.Name()),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
	}, opts...)
	nc, err := nats.Connect(c.URLs(), all...)
	if err != nil {
		t.Fatalf("natstest: connect %s: %v", c.URLs(), err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return nc, js
}

// MetaLeader returns the node that leads the JetStream meta group (it
// creates streams and places them), or -1 while there is none.
func (c *Cluster) MetaLeader() int {
	for i := range c.nodes {
		if s := c.Server(i); s != nil && s.JetStreamIsLeader() {
			return i
		}
	}
	return -1
}

// WaitMetaLeader waits until the running nodes agree on a meta leader that
// sees all of them online, and returns it.
func (c *Cluster) WaitMetaLeader(t testing.TB) int {
	t.Helper()
	leader := -1
	c.waitFor(t, "a JetStream meta leader", func() error {
		if leader = c.MetaLeader(); leader < 0 {
			return fmt.Errorf("none elected")
		}
		running := 0
		for i := range c.nodes {
			s := c.Server(i)
			if s == nil {
				continue
			}
			running++
			if !s.JetStreamIsCurrent() {
				return fmt.Errorf("node %s not current with the meta leader %s", c.Name(i), c.Name(leader))
			}
		}
		// Placing replicas needs every node online at the leader, with its
		// stats: until then an R3 create fails with "no suitable peers".
		if s := c.Server(leader); s != nil {
			if peers := s.JetStreamClusterPeers(); len(peers) < running {
				return fmt.Errorf("the meta leader %s sees %d of %d nodes online", c.Name(leader), len(peers), running)
			}
		}
		return nil
	})
	return leader
}

// StreamLeader returns the node that leads stream (of the default account;
// a KV bucket B is the stream KV_B), or -1 while there is none.
func (c *Cluster) StreamLeader(stream string) int {
	for i := range c.nodes {
		if s := c.Server(i); s != nil && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return i
		}
	}
	return -1
}

// WaitStreamLeader waits until stream has a leader and returns it.
func (c *Cluster) WaitStreamLeader(t testing.TB, stream string) int {
	t.Helper()
	leader := -1
	c.waitFor(t, "a leader of stream "+stream, func() error {
		if leader = c.StreamLeader(stream); leader < 0 {
			return fmt.Errorf("none elected")
		}
		return nil
	})
	return leader
}

// waitFor polls check until it returns nil, failing t after clusterWait
// with what is missing.
func (c *Cluster) waitFor(t testing.TB, what string, check func() error) {
	t.Helper()
	testwait.Until(t, clusterWait, func() error {
		if err := check(); err != nil {
			return fmt.Errorf("natstest: %s: %w", what, err)
		}
		return nil
	})
}
