// Command chaos proves the bridge on a NATS cluster under faults: it runs a
// three-node NATS cluster (streams and buckets at R3), the simulator
// (cmd/lpsim, strict cookies) and three bridge replicas with leases, each
// as its own process on 127.0.0.1; visitors open chats and send numbered
// lines, bots answer every line with a chat.send command (half
// request-reply, half durable), while it SIGKILLs bridges and NATS nodes
// (the stream leader too) and restarts every bridge once, one by one, with
// SIGTERM. At the end it waits until everything is quiet and prints one
// table: lines posted and seen, lost, doubled, out of order, transcripts,
// commands and their posts at the simulator, dead letters, the longest
// time an agent had no owner and the time until events flowed again after
// each kind of fault. It exits 1 when anything was lost, doubled or out of
// order. `make chaos` runs it; `-short` is the one-minute form for CI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Defaults of the flags.
const (
	defaultDuration    = 3 * time.Minute
	shortDuration      = time.Minute
	defaultChats       = 100
	defaultLines       = 10 // per chat
	defaultAgents      = 10
	defaultMaxChats    = 10 // per agent: 10 × 10 seats hold every chat at once
	defaultBridgeKills = 12 // at least 10 in the default run (issue 10)
	defaultPoll        = 500 * time.Millisecond
	// defaultLeaseTTL: short, so that a takeover after a SIGKILL is quick,
	// yet long enough to outlast an election while a NATS node is gone.
	defaultLeaseTTL = 6 * time.Second
	defaultSettle   = 9 * time.Minute // above a visitor's settleWait
	defaultSetup    = 3 * time.Minute
)

// options are the command-line settings.
type options struct {
	duration    time.Duration
	chats       int
	lines       int
	agents      int
	maxChats    int
	bridgeKills int
	natsKills   int // 0: one every 45 s of the run, at least one
	rolling     bool
	outage      bool
	simFaults   bool
	poll        time.Duration
	leaseTTL    time.Duration
	settle      time.Duration
	setup       time.Duration
	seed        uint64
	keep        bool

	natsNode bool
	node     nodeOptions
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errVerdict):
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
}

// errVerdict is returned when the run found something lost, doubled or out
// of order (the table says what).
var errVerdict = errors.New("the run failed its verdict")

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	var short bool
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.DurationVar(&o.duration, "duration", defaultDuration, "how long faults are injected (visitors chat over this time)")
	fs.BoolVar(&short, "short", false, "the CI form: -duration "+shortDuration.String()+", and no full NATS outage unless -outage is given")
	fs.IntVar(&o.chats, "chats", defaultChats, "visitor chats over the run")
	fs.IntVar(&o.lines, "lines", defaultLines, "numbered visitor lines per chat")
	fs.IntVar(&o.agents, "agents", defaultAgents, "agents (simulator agents bot.0001 ...), shared by the three bridges")
	fs.IntVar(&o.maxChats, "max-chats", defaultMaxChats, "concurrent chats per agent")
	fs.IntVar(&o.bridgeKills, "bridge-kills", -1, fmt.Sprintf("bridge SIGKILLs over the run (-1: %d per 3 minutes, at least 3)", defaultBridgeKills))
	fs.IntVar(&o.natsKills, "nats-kills", -1, "NATS node SIGKILLs over the run, every other one the stream leader (-1: one per 45 s, at least 1)")
	fs.BoolVar(&o.rolling, "rolling", true, "one rolling restart of every bridge (SIGTERM one by one) mid-run")
	fs.BoolVar(&o.outage, "outage", true, "one full NATS outage (every node SIGKILLed) of 30 s")
	fs.BoolVar(&o.simFaults, "sim-faults", true, "simulator faults meanwhile: 5xx, 429 with Retry-After, latency, dropped connections, expired logins and sessions")
	fs.DurationVar(&o.poll, "poll", defaultPoll, "the bridges' BRIDGE_POLL_INTERVAL")
	fs.DurationVar(&o.leaseTTL, "lease-ttl", defaultLeaseTTL, "the bridges' BRIDGE_LEASE_TTL")
	fs.DurationVar(&o.settle, "settle-timeout", defaultSettle, "bound of the wait for quiescence after the faults")
	fs.DurationVar(&o.setup, "setup-timeout", defaultSetup, "bound of building and starting everything")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the faults' and visitors' randomness (0: from the clock)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (every process's log)")
	fs.BoolVar(&o.natsNode, "nats-node", false, "internal: serve one NATS node of the cluster")
	nodeFlags(fs, &o.node)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if short {
		o.duration = shortDuration
		// Half of a one-minute run would be the outage; the whole-bridge
		// outage test (cmd/bridge) covers it on every change instead.
		if !flagSet(fs, "outage") {
			o.outage = false
		}
	}
	if o.bridgeKills < 0 {
		o.bridgeKills = max(3, int(float64(defaultBridgeKills)*o.duration.Minutes()/3))
	}
	if o.natsKills < 0 {
		o.natsKills = max(1, int(o.duration/(45*time.Second)))
	}
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.natsNode:
		return o, nil
	case o.duration < 20*time.Second:
		return o, errors.New("-duration must be at least 20s")
	case o.chats < 1 || o.lines < 1 || o.agents < 1 || o.maxChats < 1:
		return o, errors.New("-chats, -lines, -agents and -max-chats must be positive")
	case o.poll <= 0 || o.settle <= 0 || o.setup <= 0:
		return o, errors.New("-poll, -settle-timeout and -setup-timeout must be positive")
	case o.leaseTTL < time.Second || o.leaseTTL%time.Second != 0:
		return o, errors.New("-lease-ttl must be whole seconds, at least 1s")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.natsNode {
		return runNode(ctx, o.node, stdout)
	}
	rep, err := chaos(ctx, o, stderr)
	if err != nil {
		return err
	}
	printTable(stdout, rep)
	if len(rep.sum.failures()) > 0 || !rep.quiescent {
		return errVerdict
	}
	return nil
}

// flagSet reports whether the command line set flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
