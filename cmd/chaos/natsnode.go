package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// clusterName names the chaos run's NATS cluster.
const clusterName = "chaos"

// natsReadyTimeout bounds a node's start; a restarted node replays its
// store first.
const natsReadyTimeout = 60 * time.Second

// nodeOptions are the settings of one NATS node run by -nats-node.
type nodeOptions struct {
	name        string
	port        int
	clusterPort int
	httpPort    int
	storeDir    string
	routes      string // comma-separated host:port of the other nodes' cluster ports
}

// args are the command-line arguments that run this node in a child.
func (n nodeOptions) args() []string {
	return []string{"-nats-node", "-node-name", n.name,
		"-node-port", fmt.Sprint(n.port), "-node-cluster-port", fmt.Sprint(n.clusterPort),
		"-node-http-port", fmt.Sprint(n.httpPort), "-node-store", n.storeDir, "-node-routes", n.routes}
}

// nodeFlags registers the -nats-node flags on fs.
func nodeFlags(fs *flag.FlagSet, n *nodeOptions) {
	fs.StringVar(&n.name, "node-name", "", "internal: -nats-node server name")
	fs.IntVar(&n.port, "node-port", 0, "internal: -nats-node client port")
	fs.IntVar(&n.clusterPort, "node-cluster-port", 0, "internal: -nats-node cluster port")
	fs.IntVar(&n.httpPort, "node-http-port", 0, "internal: -nats-node monitoring port")
	fs.StringVar(&n.storeDir, "node-store", "", "internal: -nats-node JetStream store directory")
	fs.StringVar(&n.routes, "node-routes", "", "internal: -nats-node routes (host:port,...)")
}

// runNode serves one node of the cluster, with JetStream and its
// monitoring port, until ctx is done (SIGTERM); the chaos run also
// SIGKILLs it. It is the same nats-server as the module's, in a process
// of its own so that it can be killed.
func runNode(ctx context.Context, n nodeOptions, stdout io.Writer) error {
	if n.name == "" || n.port == 0 || n.clusterPort == 0 || n.storeDir == "" {
		return errors.New("-nats-node needs -node-name, -node-port, -node-cluster-port and -node-store")
	}
	var routes []*url.URL
	for r := range strings.SplitSeq(n.routes, ",") {
		if r != "" {
			routes = append(routes, &url.URL{Scheme: "nats", Host: r})
		}
	}
	opts := &server.Options{
		ServerName: n.name,
		Host:       "127.0.0.1",
		Port:       n.port,
		HTTPHost:   "127.0.0.1",
		HTTPPort:   n.httpPort,
		JetStream:  true,
		StoreDir:   n.storeDir,
		NoSigs:     true,
		Logtime:    true,
		Cluster:    server.ClusterOpts{Name: clusterName, Host: "127.0.0.1", Port: n.clusterPort},
		Routes:     routes,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("nats-server %s: %w", n.name, err)
	}
	s.ConfigureLogger()
	go s.Start()
	if !s.ReadyForConnections(natsReadyTimeout) {
		s.Shutdown()
		return fmt.Errorf("nats-server %s not ready within %s", n.name, natsReadyTimeout)
	}
	fmt.Fprintf(stdout, "chaos nats node %s ready on %s\n", n.name, s.ClientURL())
	<-ctx.Done()
	s.Shutdown()
	s.WaitForShutdown()
	return nil
}
