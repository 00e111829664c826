// Command scalebench measures the bridge at scale on one machine: it builds
// cmd/lpsim and cmd/bridge, runs a nats-server, the simulator (HTTPS with a
// test certificate, or plain HTTP) and the bridge each as its own process on
// 127.0.0.1, opens chats × agents chats, writes visitor lines at a fixed rate
// through the simulator's control API, and prints one markdown table of what
// it measured over a steady window: CPU and RSS of each process, LivePerson
// requests per agent per tick, polls on time, line → event latency and events
// per second. `make scale` runs it; see README, Performance.
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

// Defaults of the flags, after issue 11's measurements.
const (
	defaultAgents    = 100
	defaultChats     = 5                // per agent: the simulator's and a typical bot's load
	defaultLineEvery = 10 * time.Second // per chat: a brisk visitor
	defaultPoll      = 2 * time.Second  // the bridge's default, LivePerson's minimum
	defaultDuration  = 45 * time.Second
	defaultWarmup    = 10 * time.Second // past logins, chat routing and the first full sync
	defaultSetup     = 5 * time.Minute  // bound of build, start, logins and routing of every chat
)

// options are the command-line settings.
type options struct {
	agents    int
	chats     int
	lineEvery time.Duration
	poll      time.Duration
	duration  time.Duration
	warmup    time.Duration
	setup     time.Duration
	tls       bool
	keep      bool

	natsOnly bool
	natsDir  string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "scalebench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("scalebench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&o.agents, "agents", defaultAgents, "agents the bridge runs (simulator agents bot.0001 ...)")
	fs.IntVar(&o.chats, "chats", defaultChats, "open chats per agent")
	fs.DurationVar(&o.lineEvery, "line-every", defaultLineEvery, "a visitor line per chat this often")
	fs.DurationVar(&o.poll, "poll", defaultPoll, "the bridge's poll interval (BRIDGE_POLL_INTERVAL)")
	fs.DurationVar(&o.duration, "duration", defaultDuration, "steady window measured")
	fs.DurationVar(&o.warmup, "warmup", defaultWarmup, "time after every chat is chatting before the window starts")
	fs.DurationVar(&o.setup, "setup-timeout", defaultSetup, "bound of building, starting and routing every chat")
	fs.BoolVar(&o.tls, "tls", true, "the simulator serves HTTPS with a test certificate (false: plain HTTP)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs of each process)")
	fs.BoolVar(&o.natsOnly, "nats-only", false, "internal: serve an embedded nats-server and print its URL")
	fs.StringVar(&o.natsDir, "nats-dir", "", "internal: JetStream store of -nats-only")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.agents < 1 || o.chats < 1:
		return o, errors.New("-agents and -chats must be positive")
	case o.lineEvery <= 0 || o.poll <= 0 || o.duration <= 0 || o.warmup < 0:
		return o, errors.New("-line-every, -poll and -duration must be positive, -warmup not negative")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.natsOnly {
		return runNATS(ctx, o.natsDir, stdout)
	}
	res, err := bench(ctx, o, stderr)
	if err != nil {
		return err
	}
	printTable(stdout, o, res)
	if res.lineEvents == 0 {
		return errors.New("no line event reached the subscriber in the window")
	}
	return nil
}
