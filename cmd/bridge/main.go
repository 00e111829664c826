// Command bridge connects LivePerson's Chat Agent API to NATS: one poller
// worker per configured agent publishes every change as a CloudEvent on
// JetStream. With no configuration it runs an embedded nats-server and an
// embedded LivePerson simulator with demo agents and scripted visitors.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
	"github.com/lpbridge/lpbridge/internal/state"
	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/lpbridge/lpbridge/internal/tracing"
	"github.com/lpbridge/lpbridge/schemas"
)

// envPrefix is the prefix of every environment variable the bridge reads.
const envPrefix = "BRIDGE"

// publishAckTimeout bounds the wait for one event's JetStream ack.
const publishAckTimeout = 30 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills at once instead of
		// waiting for the graceful shutdown.
		<-ctx.Done()
		stop()
	}()
	if code, ok := runSubcommand(ctx, os.Args[1:], os.Stdout, os.Stderr); ok {
		stop()
		os.Exit(code)
	}
	err := run(ctx, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(1)
	}
}

// loadConfig reads and validates the BRIDGE_* environment.
func loadConfig() (Config, error) {
	var cfg Config
	if err := envconfig.Process(envPrefix, &cfg); err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	return cfg, cfg.Validate()
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// run is the whole bridge: when ctx is done it shuts down (see shutdown)
// and returns nil, or errShutdownTimeout when that took longer than
// BRIDGE_SHUTDOWN_TIMEOUT; it returns an error naming what failed when it
// cannot start.
func run(ctx context.Context, stdout, stderr io.Writer) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)

	var stopAll []func()
	defer func() {
		for i := len(stopAll) - 1; i >= 0; i-- {
			stopAll[i]()
		}
	}()

	// Tracing first, so that its flush runs last (stopAll runs backwards),
	// after the workers and the command consumer ended their spans.
	tracer, stopTracing, err := tracing.Setup(ctx, tracing.Config{
		Endpoint: cfg.OTLPEndpoint, Insecure: cfg.OTLPInsecure, SampleRatio: cfg.TraceSampleRatio, Logger: logger,
	})
	if err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	stopAll = append(stopAll, func() {
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stopTracing(fctx); err != nil {
			logger.Warn("flushing traces failed", "err", err)
		}
	})
	metrics := telemetry.NewMetrics(telemetry.WithOperations(lpchat.OperationNames()...))

	natsURL := cfg.NATSURL
	if natsURL == "" {
		ns, stopNATS, err := embeddedNATS(cfg, logger)
		if err != nil {
			return err
		}
		stopAll = append(stopAll, stopNATS)
		natsURL = ns.ClientURL()
	}
	opts, err := natsOptions(cfg, logger)
	if err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	nc, err := connectNATS(ctx, natsURL, opts, logger)
	if err != nil {
		return err
	}
	// shutdown drains it; this closes it when run fails to start or the
	// drain did not finish in time.
	stopAll = append(stopAll, nc.Close)

	// Events are published asynchronously; an ack the server never sends
	// (its node died with the message) is given up after this, so the
	// handle does not keep it pending for ever.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(publishAckTimeout))
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if _, err := events.EnsureStream(ctx, js, events.StreamConfig{
		Name: cfg.StreamName, Prefix: cfg.SubjectPrefix, Replicas: cfg.StreamReplicas,
		MaxAge: cfg.StreamMaxAge, DuplicateWindow: cfg.DuplicateWindow, Logger: logger, Metrics: metrics,
	}); err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	pub, err := events.NewPublisher(js, events.PublisherConfig{
		Prefix: cfg.SubjectPrefix, Encoding: events.Encoding(cfg.EventEncoding), DataSchemaBase: cfg.DataSchemaBase,
		Metrics: metrics,
	}, logger)
	if err != nil {
		return fmt.Errorf("event publisher: %w", err)
	}
	store, err := state.Open(ctx, js, state.Config{
		Bucket: cfg.StateBucket, Replicas: cfg.StreamReplicas, Logger: logger, Metrics: metrics,
	})
	if err != nil {
		return fmt.Errorf("state store: %w", err)
	}

	var leases *state.Leases
	owner := state.NewOwnerID()
	if cfg.LeaseTTL > 0 {
		if leases, err = state.OpenLeases(ctx, js, state.LeasesConfig{
			Bucket: cfg.LeaseBucket, Replicas: cfg.StreamReplicas, Logger: logger, Metrics: metrics,
		}); err != nil {
			return fmt.Errorf("lease bucket: %w", err)
		}
	}

	account, domainURL, insecure := cfg.LPAccount, cfg.LPDomainURL, cfg.LPAllowInsecureHTTP
	var agents []poller.AgentConfig
	if cfg.embeddedSim() {
		simURL, demo, stopSim, err := startEmbeddedSim(ctx, cfg, logger)
		if err != nil {
			return err
		}
		stopAll = append(stopAll, stopSim)
		account, domainURL, insecure, agents = lpsim.DemoAccountID, simURL, true, demo
	} else if agents, err = loadAgents(cfg); err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}

	if cfg.ShowEvents == "true" || (cfg.ShowEvents == "auto" && cfg.embeddedSim()) {
		sub, err := showEvents(nc, cfg.SubjectPrefix, stdout)
		if err != nil {
			return err
		}
		stopAll = append(stopAll, func() { _ = sub.Unsubscribe() })
	}

	health := &telemetry.Health{}
	health.Register("nats", func(context.Context) error {
		if st := nc.Status(); st != nats.CONNECTED {
			return fmt.Errorf("nats connection %s", st)
		}
		return nil
	})
	if cfg.HTTPAddr != "" {
		stopHTTP, err := serveHTTP(cfg.HTTPAddr, metrics, health, logger, httpOptions(cfg)...)
		if err != nil && cfg.embeddedSim() && errors.Is(err, syscall.EADDRINUSE) {
			// The zero-config demo must start on any laptop: take a free port.
			logger.Warn("HTTP address busy; the demo serves /metrics on a free port instead", "addr", cfg.HTTPAddr)
			stopHTTP, err = serveHTTP("127.0.0.1:0", metrics, health, logger)
		}
		if err != nil {
			return err
		}
		stopAll = append(stopAll, stopHTTP)
	}

	// One budget per account: all its agents share LivePerson's patience.
	// Every client waits on it before each request, retries and commands included.
	budget := rate.NewLimiter(rate.Limit(cfg.RequestsPerSecond), max(1, int(cfg.RequestsPerSecond)))
	parts := bridgeParts{nc: nc}
	sessions := workerSessions{account: account, workers: map[string]*poller.Worker{},
		history: events.NewChatHistory(js, cfg.StreamName, pub)}
	// One transport for the account's agents, instrumented once: one pool
	// of connections and TLS sessions; each client keeps its own cookies.
	lpTransport, err := livePersonTransport(cfg.LPCAFile, len(agents))
	if err != nil {
		return err
	}
	transport := telemetry.InstrumentTransport(lpTransport, metrics, lpchat.OperationOf)
	gate := poller.NewStartGate(cfg.LoginsAtOnce)
	for _, a := range agents {
		client, err := lpchat.New(lpchat.Config{
			DomainURL: domainURL, Account: account, AllowInsecureHTTP: insecure,
			Transport: transport,
			Budget:    budget,
			Logger:    logger.With("agent", a.LoginName),
			OnRetry:   metrics.LPRetryRequest,
		})
		if err != nil {
			return fmt.Errorf("agent %s: %w", a.LoginName, err)
		}
		pcfg := poller.Config{
			Account: account, Agent: a, PollInterval: cfg.PollInterval,
			RefreshEvery: cfg.RefreshInterval, LogoutOnStop: cfg.LogoutOnStop,
			Metrics: metrics, Tracer: tracer, StartGate: gate,
		}
		if leases != nil {
			pcfg.Lease = leases.Agent(account, events.Token(a.LoginName), owner, cfg.LeaseTTL)
		}
		w, err := poller.New(pcfg, client, pub, store, logger.With("account", account, "agent", a.LoginName))
		if err != nil {
			return fmt.Errorf("agent %s: %w", a.LoginName, err)
		}
		sessions.workers[events.Token(a.LoginName)] = w
		// A worker without a successful poll for STALL_AFTER is stalled: the
		// pod is not ready, but not restarted for it. One standing by
		// (another replica holds the lease) looks every third of the lease
		// TTL, so never less than that.
		stallAfter := max(cfg.StallAfter, 2*cfg.PollInterval, cfg.LeaseTTL)
		health.Register("poll."+a.LoginName, func(context.Context) error {
			if !w.Healthy(stallAfter) && w.Failed() == "" {
				return fmt.Errorf("no successful poll for %s", stallAfter)
			}
			return nil
		})
		// An agent whose login LivePerson refused for good is named in
		// /readyz's body but keeps it 200: the other agents work, and taking
		// the pod out of service would not mend credentials.
		health.RegisterSoft("agent."+a.LoginName, func(context.Context) error {
			if why := w.Failed(); why != "" {
				return fmt.Errorf("failed: %s", why)
			}
			return nil
		})
		parts.workers = append(parts.workers, workerTask{
			login: a.LoginName, worker: w,
			task: startTask(ctx, "poller "+a.LoginName, func(ctx context.Context) {
				if err := w.Run(ctx); err != nil {
					logger.Error("poller stopped", "agent", a.LoginName, "err", err)
				}
			}),
		})
	}
	if parts.commands, err = startCommands(ctx, cfg, account, nc, js, sessions, pub, health, metrics, tracer, logger); err != nil {
		// Stop the workers that started; nothing of theirs is lost.
		_ = shutdown(parts, shutdownConfig{timeout: cfg.ShutdownTimeout}, logger)
		return err
	}
	logger.Info("bridge running", "account", account, "agents", agentNames(agents), "nats", redactURL(natsURL),
		"stream", cfg.StreamName, "subjects", cfg.SubjectPrefix+".evt.>", "leaseOwner", owner, "leaseTTL", cfg.LeaseTTL)
	<-ctx.Done()
	return shutdown(parts, shutdownConfig{timeout: cfg.ShutdownTimeout, awayOnStop: cfg.AwayOnStop}, logger)
}

func agentNames(agents []poller.AgentConfig) string {
	names := make([]string, len(agents))
	for i, a := range agents {
		names[i] = a.LoginName
	}
	return strings.Join(names, ",")
}

// serveHTTP serves /metrics, /livez and /readyz on addr. It listens before
// returning so a bad or busy address fails the start, not later.
func serveHTTP(addr string, m *telemetry.Metrics, h *telemetry.Health, logger *slog.Logger, opts ...telemetry.ServerOption) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("BRIDGE_HTTP_ADDR: %w", err)
	}
	srv := telemetry.NewServer(addr, m, h, opts...)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "err", err)
		}
	}()
	logger.Info("serving /metrics, /livez, /readyz", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// startCommands runs the command consumer on <prefix>.cmd.<account>.> (and
// the durable subjects when configured) as a task: stopping the task stops
// taking commands; the task ends when the commands being run are done.
func startCommands(ctx context.Context, cfg Config, account string, nc *nats.Conn,
	js jetstream.JetStream, sessions workerSessions, pub *events.Publisher, health *telemetry.Health,
	metrics *telemetry.Metrics, tracer trace.TracerProvider, logger *slog.Logger,
) (*task, error) {
	set, err := schemas.Compile()
	if err != nil {
		return nil, fmt.Errorf("schemas: %w", err)
	}
	cons, err := commands.New(commands.Config{
		Account: account, Prefix: cfg.SubjectPrefix, Replicas: cfg.StreamReplicas,
		Durable: cfg.CommandsDurable, StreamName: cfg.CommandsStream, DLQStreamName: cfg.CommandsDLQStream,
		ResultsBucket: cfg.CommandsResultsBucket, ResultTTL: cfg.CommandsResultTTL,
		Timeout: cfg.CommandsTimeout, MaxDeliver: cfg.CommandsMaxDeliver, MaxBodyBytes: cfg.CommandsMaxBodyBytes,
		Metrics: metrics, Tracer: tracer,
	}, nc, js, sessions, pub, set, logger.With("component", "commands"))
	if err != nil {
		return nil, fmt.Errorf("command consumer: %w", err)
	}
	health.Register("commands", func(context.Context) error {
		select {
		case <-cons.Ready():
			return nil
		default:
			return errors.New("command consumer not subscribed yet")
		}
	})
	return startTask(ctx, "command consumer", func(ctx context.Context) {
		if err := cons.Run(ctx); err != nil {
			logger.Error("command consumer stopped", "err", err)
		}
	}), nil
}

// httpOptions are what the configuration adds to the HTTP server.
func httpOptions(cfg Config) []telemetry.ServerOption {
	if cfg.Pprof {
		return []telemetry.ServerOption{telemetry.WithProfiling()}
	}
	return nil
}

// livePersonTransport is the HTTP transport towards LivePerson that the
// account's agents share (lpchat.NewTransport, sized for them), trusting the
// CA certificates of caFile (PEM) besides the system's when it is set.
func livePersonTransport(caFile string, agents int) (*http.Transport, error) {
	tc := lpchat.TransportConfig{Agents: agents}
	if caFile == "" {
		return lpchat.NewTransport(tc), nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("BRIDGE_LP_CA_FILE: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // no system roots here: the file's alone
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("BRIDGE_LP_CA_FILE: %s holds no PEM certificate", caFile)
	}
	tc.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return lpchat.NewTransport(tc), nil
}
