package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/harness"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/state"
)

const (
	// nodes and bridges of the run: three of each, as issue 10 asks.
	nodes    = 3
	replicas = 3
	// eventStream, commandStream and dlqStream are the bridge's defaults.
	eventStream = "LP_EVENTS"
	dlqStream   = "LP_COMMANDS_DLQ"
	// supportSkill is the simulator demo account's first skill (Support).
	supportSkill = "31100810"
	// sampleOwners is how often the lease bucket is read.
	sampleOwners = 250 * time.Millisecond
	// quietFor is how long no new event may arrive before the run counts
	// as quiescent (late duplicates would come within it).
	quietFor = 5 * time.Second
	// readyWait bounds a restarted process's way back to ready.
	readyWait = 90 * time.Second
)

// world is one chaos run: the processes, the NATS connection of the
// visitors' bots and consumer, and what they record.
type world struct {
	o    options
	logw io.Writer
	tmp  string

	rmu sync.Mutex
	rng *rand.Rand

	nodes    []*proc
	nodeOpts []nodeOptions
	natsURLs string
	sim      *proc
	simURL   string
	acct     string // the simulator's control URL of the account
	bridges  []*proc
	addrs    []string // each bridge's HTTP address, kept across restarts
	agents   []string // agent tokens (bot_0001 ...)

	nc     *nats.Conn
	js     jetstream.JetStream
	hc     *http.Client
	leases *state.Leases

	led    *ledger
	own    *owners
	faults faultLog

	rolling  sync.Mutex // held by the rolling restart: no bridge kills meanwhile
	natsMu   sync.Mutex // one NATS fault at a time (a quorum stays)
	restarts sync.WaitGroup
	cmds     sync.WaitGroup
	cmdCtx   context.Context
}

// logf prints a progress line.
func (w *world) logf(format string, args ...any) {
	fmt.Fprintf(w.logw, "chaos %s: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// between is a random duration in [lo, hi).
func (w *world) between(lo, hi time.Duration) time.Duration {
	w.rmu.Lock()
	defer w.rmu.Unlock()
	return lo + time.Duration(w.rng.Int64N(int64(hi-lo)))
}

// intN is a random int in [0, n).
func (w *world) intN(n int) int {
	w.rmu.Lock()
	defer w.rmu.Unlock()
	return w.rng.IntN(n)
}

// chaos runs the whole thing and stops every process it started.
func chaos(ctx context.Context, o options, logw io.Writer) (report, error) {
	tmp, err := os.MkdirTemp("", "chaos-")
	if err != nil {
		return report{}, fmt.Errorf("temp dir: %w", err)
	}
	w := &world{o: o, logw: logw, tmp: tmp, rng: rand.New(rand.NewPCG(o.seed, o.seed>>1|1)),
		led: newLedger(), own: newOwners(), hc: &http.Client{Timeout: 15 * time.Second}}
	keep := o.keep
	defer func() {
		if keep {
			fmt.Fprintln(logw, "chaos: logs of every process in", tmp)
			return
		}
		_ = os.RemoveAll(tmp)
	}()
	w.logf("seed %d; %d chats × %d lines on %d agents, three NATS nodes, three bridges; faults for %s", o.seed, o.chats, o.lines, o.agents, o.duration)
	defer w.stopAll()
	if err := w.setup(ctx); err != nil {
		keep = true
		return report{}, err
	}
	rep, err := w.drive(ctx)
	if err != nil || len(rep.sum.failures()) > 0 || !rep.quiescent {
		keep = true
	}
	return rep, err
}

// setup builds the binaries and starts the cluster, the simulator and the
// bridges, and the event consumer.
func (w *world) setup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, w.o.setup)
	defer cancel()
	w.logf("building cmd/lpsim and cmd/bridge")
	build := exec.CommandContext(ctx, "go", "build", "-o", w.tmp+string(os.PathSeparator), "./cmd/lpsim", "./cmd/bridge")
	build.Stdout, build.Stderr = w.logw, w.logw
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build (run from the module root): %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("own executable: %w", err)
	}
	env := harness.CleanEnv()
	ports, err := freePorts(3*nodes + 1 + replicas)
	if err != nil {
		return err
	}
	urls := make([]string, nodes)
	for i := range nodes {
		var routes []string
		for j := range nodes {
			if j != i {
				routes = append(routes, fmt.Sprintf("127.0.0.1:%d", ports[3*j+1]))
			}
		}
		n := nodeOptions{name: fmt.Sprintf("n%d", i), port: ports[3*i], clusterPort: ports[3*i+1], httpPort: ports[3*i+2],
			storeDir: filepath.Join(w.tmp, fmt.Sprintf("n%d-store", i)), routes: strings.Join(routes, ",")}
		w.nodeOpts = append(w.nodeOpts, n)
		w.nodes = append(w.nodes, &proc{name: "nats-" + n.name, bin: self, args: n.args(), env: env, log: filepath.Join(w.tmp, "nats-"+n.name+".log")})
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", n.port)
	}
	w.natsURLs = strings.Join(urls, ",")
	for _, n := range w.nodes {
		if err := n.start(); err != nil {
			return err
		}
	}
	for i := range w.nodes {
		if err := w.waitNode(ctx, i); err != nil {
			return err
		}
	}
	w.nc, err = nats.Connect(w.natsURLs, nats.Name("chaos"), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond),
		nats.ReconnectBufSize(64<<20))
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	if w.js, err = jetstream.New(w.nc); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	w.logf("NATS cluster up: %s", w.natsURLs)

	simAddr := fmt.Sprintf("127.0.0.1:%d", ports[3*nodes])
	w.simURL = "http://" + simAddr
	w.acct = w.simURL + "/sim/accounts/" + lpsim.DemoAccountID
	// A long accept window: a chat ringing while its agent has no owner
	// (up to a lease TTL after a SIGKILL) would otherwise set the agent
	// Away, and no chat would reach it any more; restoreAvailability
	// (agents file) sets it back too.
	w.sim = &proc{name: "lpsim", bin: filepath.Join(w.tmp, "lpsim"), env: env, log: filepath.Join(w.tmp, "lpsim.log"),
		args: []string{"-addr", simAddr, "-agents-count", fmt.Sprint(w.o.agents), "-max-chats", fmt.Sprint(w.o.maxChats),
			"-strict-cookies", "-accept-window", "2m", "-log-level", "warn", "-seed", fmt.Sprint(w.o.seed%1000000 + 1)}}
	if err := w.sim.start(); err != nil {
		return err
	}
	if err := waitHTTP(ctx, w.hc, w.simURL+"/sim/stats", w.sim); err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	agentsFile := filepath.Join(w.tmp, "agents.json")
	logins, err := harness.WriteAgents(agentsFile, w.o.agents, true)
	if err != nil {
		return err
	}
	for _, l := range logins {
		w.agents = append(w.agents, events.Token(l))
	}
	for i := range replicas {
		addr := fmt.Sprintf("127.0.0.1:%d", ports[3*nodes+1+i])
		w.addrs = append(w.addrs, addr)
		benv := append(append([]string{}, env...),
			"BRIDGE_NATS_URL="+w.natsURLs,
			"BRIDGE_LP_ACCOUNT="+lpsim.DemoAccountID,
			"BRIDGE_LP_DOMAIN_URL="+w.simURL,
			"BRIDGE_LP_ALLOW_INSECURE_HTTP=true",
			"BRIDGE_AGENTS_FILE="+agentsFile,
			"BRIDGE_POLL_INTERVAL="+w.o.poll.String(),
			fmt.Sprintf("BRIDGE_REQUESTS_PER_SECOND=%d", 10*w.o.agents+20),
			"BRIDGE_HTTP_ADDR="+addr,
			"BRIDGE_STREAM_REPLICAS=3",
			"BRIDGE_LEASE_TTL="+w.o.leaseTTL.String(),
			"BRIDGE_COMMANDS_DURABLE=true",
			"BRIDGE_LOG_FORMAT=json",
			"BRIDGE_LOG_LEVEL=debug", // every command handled, ok ones too
			"BRIDGE_SHOW_EVENTS=false",
		)
		w.bridges = append(w.bridges, &proc{name: fmt.Sprintf("bridge-%d", i), bin: filepath.Join(w.tmp, "bridge"), env: benv,
			log: filepath.Join(w.tmp, fmt.Sprintf("bridge-%d.log", i))})
	}
	for _, b := range w.bridges {
		if err := b.start(); err != nil {
			return err
		}
	}
	for i := range w.bridges {
		if err := w.waitBridge(ctx, i); err != nil {
			return err
		}
	}
	w.logf("three bridges ready against %s", w.simURL)
	if err := w.startConsumer(ctx); err != nil {
		return err
	}
	w.leases, err = state.OpenLeases(ctx, w.js, state.LeasesConfig{Replicas: 3, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("lease bucket: %w", err)
	}
	return nil
}

// startConsumer reads LP_EVENTS from its first message with an ordered
// consumer (it resumes after the last sequence it delivered when its
// server goes) and hands every message to the ledger and the bots.
func (w *world) startConsumer(ctx context.Context) error {
	var cons jetstream.Consumer
	err := retry(ctx, "the event consumer", func() error {
		var err error
		cons, err = w.js.OrderedConsumer(ctx, eventStream, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
		return err
	})
	if err != nil {
		return err
	}
	// Stopped with the connection at the end.
	_, err = cons.Consume(w.handle, jetstream.ConsumeErrHandler(func(jetstream.ConsumeContext, error) {}))
	if err != nil {
		return fmt.Errorf("consume %s: %w", eventStream, err)
	}
	return nil
}

// handle records one event; a visitor line seen for the first time gets
// its bot answer.
func (w *world) handle(m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		return
	}
	ce, err := events.Decode(&nats.Msg{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
	if err != nil {
		w.logf("undecodable event #%d on %s: %v", md.Sequence.Stream, m.Subject(), err)
		return
	}
	ev, err := events.FromCloudEvent(ce)
	if err != nil {
		w.logf("undecodable event #%d on %s: %v", md.Sequence.Stream, m.Subject(), err)
		return
	}
	text := w.led.event(observed{streamSeq: md.Sequence.Stream, stored: md.Timestamp, id: ev.ID, typ: ev.Type,
		chat: ev.ChatID, agent: ev.Agent, seq: ev.Seq, data: ev.Data})
	if text != "" {
		w.answer(ev.Agent, ev.ChatID, text)
	}
	if d, ok := ev.Data.(events.CommandResultData); ok && !d.OK && d.Error != nil && d.Error.Code == "chat_not_found" {
		w.rerouteLater(d.CommandID)
	}
}

// waitNode waits until node i answers its monitoring /healthz (JetStream
// current) with 200.
func (w *world) waitNode(ctx context.Context, i int) error {
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	return waitHTTP(ctx, w.hc, fmt.Sprintf("http://127.0.0.1:%d/healthz", w.nodeOpts[i].httpPort), w.nodes[i])
}

// waitBridge waits until bridge i's /readyz answers 200 (a standby is ready).
func (w *world) waitBridge(ctx context.Context, i int) error {
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	return waitHTTP(ctx, w.hc, "http://"+w.addrs[i]+"/readyz", w.bridges[i])
}

// bridgeByPID is the index of the running bridge with pid, or noOwner.
func (w *world) bridgeByPID(pid int) int {
	for i, b := range w.bridges {
		if p, ok := b.running(); ok && p == pid {
			return i
		}
	}
	return noOwner
}

// followOwners samples every agent's lease until ctx ends.
func (w *world) followOwners(ctx context.Context) {
	t := time.NewTicker(sampleOwners)
	defer t.Stop()
	for {
		for _, a := range w.agents {
			rctx, cancel := context.WithTimeout(ctx, time.Second)
			rec, ok, err := w.leases.Holder(rctx, lpsim.DemoAccountID, a)
			cancel()
			switch {
			case err != nil:
				continue // NATS cannot answer now: no sample
			case !ok:
				w.own.sample(a, noOwner, time.Now())
			default:
				w.own.sample(a, w.bridgeByPID(ownerPID(rec.Owner)), time.Now())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stopAll stops every process: bridges first (SIGTERM), then the
// simulator and the NATS nodes.
func (w *world) stopAll() {
	var wg sync.WaitGroup
	for _, b := range w.bridges {
		wg.Go(func() { _, _, _ = b.term() })
	}
	wg.Wait()
	if w.nc != nil {
		w.nc.Close()
	}
	if w.sim != nil {
		_, _, _ = w.sim.term()
	}
	for _, n := range w.nodes {
		wg.Go(func() { _, _, _ = n.term() })
	}
	wg.Wait()
}

// freePorts returns n distinct TCP ports of 127.0.0.1 free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitHTTP polls url until it answers 200, p exits, or ctx ends.
func waitHTTP(ctx context.Context, hc *http.Client, url string, p *proc) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if res, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if _, ok := p.running(); !ok {
			return fmt.Errorf("%s exited; log %s", p.name, p.log)
		}
		if err := harness.Sleep(ctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for %s: %w", url, err)
		}
	}
}

// retry calls f until it succeeds or ctx ends.
func retry(ctx context.Context, what string, f func() error) error {
	var last error
	for {
		if last = f(); last == nil {
			return nil
		}
		if err := harness.Sleep(ctx, 250*time.Millisecond); err != nil {
			return fmt.Errorf("%s: %w (last: %w)", what, err, last)
		}
	}
}

// deadLetters describes each message of the dead-letter stream: its
// command's subject, id, tries and the reason the bridge gave.
func (w *world) deadLetters(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := w.js.Stream(ctx, dlqStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", dlqStream, err)
	}
	n := int(s.CachedInfo().State.Msgs)
	if n == 0 {
		return nil, nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dlqStream, err)
	}
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dlqStream, err)
	}
	var out []string
	for m := range batch.Messages() {
		h := m.Headers()
		out = append(out, fmt.Sprintf("%s id %s after %s tries: %s: %s", h.Get(commands.HeaderDLQSubject),
			h.Get(commands.HeaderCommandID), h.Get(commands.HeaderDLQDeliveries), h.Get(commands.HeaderDLQCode), h.Get(commands.HeaderDLQReason)))
	}
	if len(out) < n {
		return out, fmt.Errorf("read %d of the %d messages of %s: %w", len(out), n, dlqStream, batch.Error())
	}
	return out, nil
}
