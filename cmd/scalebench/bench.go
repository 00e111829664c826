package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/harness"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

const (
	// lineMarker starts every line the bench writes, so the subscriber tells
	// them from the simulator's system lines.
	lineMarker = "scalebench "
	// supportSkill is the simulator demo account's first skill (Support).
	supportSkill = "31100810"
	// requestsPerAgent is the request budget per agent per second given to
	// the bridge: well above the ~1.2 a 2 s poll needs, so the budget never
	// paces the bench and the figures show the bridge's own cost.
	requestsPerAgent = 5
	// controlWorkers bound the bench's parallel control calls (opening chats).
	controlWorkers = 16
	// sampleEvery is how often RSS is sampled (the table shows the maximum).
	sampleEvery = time.Second
	// drainPolls is how long after the window lines still in flight may
	// arrive before they count as lost: a few poll intervals.
	drainPolls = 3
)

// usage is what one process used over the window.
type usage struct {
	cpu    time.Duration
	maxRSS int64
}

// result is everything the table shows.
type result struct {
	window        time.Duration
	bridge, sim   usage
	nats          usage
	benchCPU      time.Duration     // the bench's own (lines, subscriber): it shares the machine
	rawPublish    float64           // raw JetStream async publishes acknowledged per second
	pubBurst      harness.BurstRate // the publisher burst (publisherBurst)
	lpRequests    float64
	polls         float64
	lineEvents    int
	lost          int
	duplicates    int
	events        int
	lat           latencies
	linesInWindow int
	burst         burstResult
}

// bench runs the whole measurement and stops every process it started.
func bench(ctx context.Context, o options, logw io.Writer) (*result, error) {
	tmp, err := os.MkdirTemp("", "scalebench-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	if o.keep {
		fmt.Fprintln(logw, "scalebench: logs in", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	setupCtx, cancel := context.WithTimeout(ctx, o.setup)
	defer cancel()

	fmt.Fprintln(logw, "scalebench: building cmd/lpsim and cmd/bridge")
	build := exec.CommandContext(setupCtx, "go", "build", "-o", tmp+string(os.PathSeparator), "./cmd/lpsim", "./cmd/bridge")
	build.Stdout, build.Stderr = logw, logw
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go build (run from the module root): %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("own executable: %w", err)
	}
	env := harness.CleanEnv()

	natsProc, natsURL, err := startChild(setupCtx, tmp, "nats", regexp.MustCompile(regexp.QuoteMeta(natsURLPrefix)+`(\S+)`),
		env, self, "-nats-only", "-nats-dir", filepath.Join(tmp, "jetstream"))
	if err != nil {
		return nil, err
	}
	defer natsProc.stop()

	simArgs := []string{"-addr", "127.0.0.1:0", "-agents-count", strconv.Itoa(o.agents), "-max-chats", strconv.Itoa(o.chats), "-log-level", "warn"}
	bridgeEnv := []string{}
	var ctl *http.Client
	if o.tls {
		caFile, certFile, keyFile, err := testCerts(tmp)
		if err != nil {
			return nil, err
		}
		simArgs = append(simArgs, "-tls-cert", certFile, "-tls-key", keyFile)
		bridgeEnv = append(bridgeEnv, "BRIDGE_LP_CA_FILE="+caFile)
		if ctl, err = tlsClient(caFile); err != nil {
			return nil, err
		}
	} else {
		bridgeEnv = append(bridgeEnv, "BRIDGE_LP_ALLOW_INSECURE_HTTP=true")
		ctl = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: controlWorkers * 4}}
	}
	ctl.Timeout = 30 * time.Second
	simProc, simURL, err := startChild(setupCtx, tmp, "lpsim", regexp.MustCompile(`listening on (https?://\S+)`), env, filepath.Join(tmp, "lpsim"), simArgs...)
	if err != nil {
		return nil, err
	}
	defer simProc.stop()

	agentsFile := filepath.Join(tmp, "agents.json")
	if _, err := harness.WriteAgents(agentsFile, o.agents, false); err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	bridgeEnv = append(bridgeEnv,
		"BRIDGE_NATS_URL="+natsURL,
		"BRIDGE_LP_ACCOUNT="+lpsim.DemoAccountID,
		"BRIDGE_LP_DOMAIN_URL="+simURL,
		"BRIDGE_AGENTS_FILE="+agentsFile,
		"BRIDGE_POLL_INTERVAL="+o.poll.String(),
		"BRIDGE_REQUESTS_PER_SECOND="+strconv.Itoa(o.agents*requestsPerAgent+10),
		"BRIDGE_HTTP_ADDR="+httpAddr,
		"BRIDGE_LOG_FORMAT=json",
		"BRIDGE_LOG_LEVEL=warn",
		"BRIDGE_SHOW_EVENTS=false",
		"BRIDGE_PPROF=true", // profiles at scale, taken while the bench runs (README, Performance)
	)
	// Subscribe before the bridge starts, so no event is missed.
	nc, err := nats.Connect(natsURL, nats.Name("scalebench"))
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	defer nc.Close()
	sub := newSubscriber()
	s, err := nc.Subscribe("lp.evt.>", sub.handle)
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	_ = s.SetPendingLimits(-1, -1) // the bench must not drop what it measures

	fmt.Fprintf(logw, "scalebench: starting the bridge with %d agents against %s\n", o.agents, simURL)
	bridgeProc, _, err := startChild(setupCtx, tmp, "bridge", nil, append(env, bridgeEnv...), filepath.Join(tmp, "bridge"))
	if err != nil {
		return nil, err
	}
	defer bridgeProc.stop()
	metricsURL := "http://" + httpAddr
	fmt.Fprintf(logw, "scalebench: the bridge's metrics and profiles: %s/metrics, %s/debug/pprof/\n", metricsURL, metricsURL)
	if err := waitFor(setupCtx, bridgeProc, "every agent polling (/readyz 200)", func() bool {
		res, err := http.Get(metricsURL + "/readyz")
		if err != nil {
			return false
		}
		_ = res.Body.Close()
		return res.StatusCode == http.StatusOK
	}); err != nil {
		return nil, err
	}

	fmt.Fprintf(logw, "scalebench: opening %d chats\n", o.agents*o.chats)
	acct := simURL + "/sim/accounts/" + lpsim.DemoAccountID
	chatIDs, err := openChats(setupCtx, ctl, acct, o.agents*o.chats)
	if err != nil {
		return nil, err
	}
	if err := waitFor(setupCtx, bridgeProc, "every chat chatting", func() bool {
		n, err := chatting(ctl, acct)
		return err == nil && n == len(chatIDs)
	}); err != nil {
		return nil, err
	}

	// Lines from now on; the window starts after the warm-up.
	runCtx, stopLines := context.WithCancel(ctx)
	var posters sync.WaitGroup
	var postErrs atomic.Int64
	for i, id := range chatIDs {
		posters.Go(func() { postLines(runCtx, ctl, acct, id, i, o.lineEvery, sub, &postErrs) })
	}
	defer func() { stopLines(); posters.Wait() }()

	fmt.Fprintf(logw, "scalebench: warm-up %s, then a %s window\n", o.warmup, o.duration)
	if err := harness.Sleep(ctx, o.warmup); err != nil {
		return nil, err
	}
	procs := []*child{bridgeProc, simProc, natsProc}
	s0, err := takeSnapshot(procs, metricsURL)
	if err != nil {
		return nil, err
	}
	t0 := s0.at
	sub.openWindow(t0)
	maxRSS := make([]int64, len(procs))
	for end := t0.Add(o.duration); time.Now().Before(end); {
		for i, p := range procs {
			if err := p.exited(); err != nil {
				return nil, err
			}
			if rss, err := procRSS(p.pid()); err == nil {
				maxRSS[i] = max(maxRSS[i], rss)
			}
		}
		if err := harness.Sleep(ctx, min(sampleEvery, time.Until(end))); err != nil {
			return nil, err
		}
	}
	s1, err := takeSnapshot(procs, metricsURL)
	if err != nil {
		return nil, err
	}
	t1 := s1.at
	sub.closeWindow(t1)
	stopLines()
	posters.Wait()
	// Lines posted in the window may still be on their way.
	_ = harness.Sleep(ctx, time.Duration(drainPolls)*o.poll)

	res := &result{
		window:     t1.Sub(t0),
		bridge:     usage{cpu: s1.cpu[0] - s0.cpu[0], maxRSS: maxRSS[0]},
		sim:        usage{cpu: s1.cpu[1] - s0.cpu[1], maxRSS: maxRSS[1]},
		nats:       usage{cpu: s1.cpu[2] - s0.cpu[2], maxRSS: maxRSS[2]},
		benchCPU:   s1.self - s0.self,
		lpRequests: metricSum(s1.metrics, "lpbridge_lp_requests_total") - metricSum(s0.metrics, "lpbridge_lp_requests_total"),
		polls:      metricSum(s1.metrics, "lpbridge_poll_duration_seconds_count") - metricSum(s0.metrics, "lpbridge_poll_duration_seconds_count"),
	}
	sub.fill(res)
	if res.burst, err = runBurst(ctx, ctl, acct, chatIDs, sub, metricsURL, bridgeProc, logw); err != nil {
		return nil, err
	}
	// After the window, with the bridge idle but running: the same server's ceiling.
	if res.rawPublish, err = rawPublishRate(ctx, nc); err != nil {
		return nil, err
	}
	if res.pubBurst, err = publisherBurst(ctx, nc, o.agents); err != nil {
		return nil, err
	}
	if n := postErrs.Load(); n > 0 {
		fmt.Fprintf(logw, "scalebench: %d line posts failed (see the table's lost lines)\n", n)
	}
	return res, nil
}

func tlsClient(caFile string) (*http.Client, error) {
	pool, err := certPool(caFile)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig(pool)
	tr.MaxIdleConnsPerHost = controlWorkers * 4
	return &http.Client{Transport: tr}, nil
}

// freeAddr is a 127.0.0.1 address with a port free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	return addr, nil
}

// waitFor polls cond until it holds, the bridge exits or ctx ends.
func waitFor(ctx context.Context, bridge *child, what string, cond func() bool) error {
	for !cond() {
		if err := bridge.exited(); err != nil {
			return err
		}
		if err := harness.Sleep(ctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
	}
	return nil
}

// snapshot is what the window's start and end compare.
type snapshot struct {
	at      time.Time
	cpu     []time.Duration // of each child
	self    time.Duration   // of the bench
	metrics string          // the bridge's /metrics
}

func takeSnapshot(procs []*child, metricsURL string) (snapshot, error) {
	s := snapshot{cpu: make([]time.Duration, len(procs))}
	var err error
	for i, p := range procs {
		if s.cpu[i], err = procCPU(p.pid()); err != nil {
			return s, err
		}
	}
	if s.self, err = procCPU(os.Getpid()); err != nil {
		return s, err
	}
	if s.metrics, err = scrape(metricsURL); err != nil {
		return s, err
	}
	s.at = time.Now()
	return s, nil
}

func scrape(base string) (string, error) {
	res, err := http.Get(base + "/metrics")
	if err != nil {
		return "", fmt.Errorf("metrics: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("metrics: %d %w", res.StatusCode, err)
	}
	return string(raw), nil
}

// openChats opens n visitor chats on the Support skill.
func openChats(ctx context.Context, hc *http.Client, acct string, n int) ([]string, error) {
	ids := make([]string, n)
	errs := make([]error, n)
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range controlWorkers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				var out struct {
					ChatID string `json:"chatId"`
				}
				errs[i] = harness.PostJSON(ctx, hc, acct+"/chats", map[string]string{"name": "visitor " + strconv.Itoa(i), "skillId": supportSkill}, &out)
				ids[i] = out.ChatID
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("open chats: %w", err)
	}
	return ids, nil
}

// chatting counts the account's chats in state chatting.
func chatting(hc *http.Client, acct string) (int, error) {
	res, err := hc.Get(acct)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var view struct {
		Chats []lpsim.ChatView `json:"chats"`
	}
	if err := json.NewDecoder(res.Body).Decode(&view); err != nil {
		return 0, err
	}
	n := 0
	for _, c := range view.Chats {
		if c.State == "chatting" {
			n++
		}
	}
	return n, nil
}

// postLines writes a marked visitor line into chat id every `every`, the
// first at a random offset so the chats' lines spread over time.
func postLines(ctx context.Context, hc *http.Client, acct, id string, chat int, every time.Duration, sub *subscriber, errs *atomic.Int64) {
	if harness.Sleep(ctx, rand.N(every)) != nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 0; ; n++ {
		text := fmt.Sprintf("%s%d-%d", lineMarker, chat, n)
		sub.posted(text, time.Now())
		if err := harness.PostJSON(ctx, hc, acct+"/chats/"+id+"/lines", map[string]string{"text": text}, nil); err != nil && ctx.Err() == nil {
			errs.Add(1)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// subscriber matches line events to the lines the bench posted.
type subscriber struct {
	mu         sync.Mutex
	sent       map[string]time.Time // marker → posted, until its event arrives
	seen       map[string]bool
	start, end time.Time // the window; zero while not yet open or closed
	events     int
	lat        latencies
	dups       int
}

func newSubscriber() *subscriber {
	return &subscriber{sent: map[string]time.Time{}, seen: map[string]bool{}}
}

func (s *subscriber) inWindow(t time.Time) bool {
	return !s.start.IsZero() && !t.Before(s.start) && (s.end.IsZero() || t.Before(s.end))
}

func (s *subscriber) openWindow(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.start = t
}

func (s *subscriber) closeWindow(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.end = t
}

// posted records the time a line is sent to the simulator; taken before the
// POST, so the latency includes the control call (sub-millisecond on loopback).
func (s *subscriber) posted(text string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[text] = at
}

func (s *subscriber) handle(m *nats.Msg) {
	now := time.Now()
	isLine := strings.HasSuffix(m.Subject, ".line")
	var data struct {
		Text string `json:"text"`
	}
	if isLine {
		_ = json.Unmarshal(m.Data, &data)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inWindow(now) {
		s.events++
	}
	if !strings.HasPrefix(data.Text, lineMarker) {
		return
	}
	if s.seen[data.Text] {
		s.dups++
		return
	}
	s.seen[data.Text] = true
	if at, ok := s.sent[data.Text]; ok {
		delete(s.sent, data.Text)
		if s.inWindow(at) {
			s.lat = append(s.lat, now.Sub(at))
		}
	}
}

// fill copies what the subscriber saw into res: lines posted in the window
// and never seen are lost.
func (s *subscriber) fill(res *result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res.events = s.events
	res.lat = s.lat
	res.lineEvents = len(s.lat)
	res.duplicates = s.dups
	for _, at := range s.sent {
		if s.inWindow(at) {
			res.lost++
		}
	}
	res.linesInWindow = res.lineEvents + res.lost
}
