// Command lpsim serves the LivePerson Chat Agent API simulator
// (internal/lpsim) on an HTTP address, for demos, benchmarks and clients in
// other languages. Run `go run ./cmd/lpsim -help` for its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/lpsim/console"
)

// shutdownTimeout bounds the graceful shutdown.
const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "lpsim:", err)
		os.Exit(1)
	}
}

// options are the command-line settings.
type options struct {
	addr           string
	account        string
	agents         []string
	skills         []string
	maxChats       int
	visitorsPerMin float64
	script         lpsim.ScriptConfig
	cfg            lpsim.Config
	logLevel       slog.Level
	tlsCert        string
	tlsKey         string
	pprofAddr      string
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("lpsim", flag.ContinueOnError)
	fs.SetOutput(out)
	defAddr := "127.0.0.1:8280"
	if v, ok := os.LookupEnv("LPSIM_ADDR"); ok && v != "" {
		defAddr = v
	}
	var agents, skills, level string
	var agentsCount int
	fs.StringVar(&o.addr, "addr", defAddr, "listen address (env LPSIM_ADDR)")
	fs.StringVar(&o.account, "account", lpsim.DemoAccountID, "demo account id")
	fs.StringVar(&agents, "agents", "bot.one,bot.two", "comma-separated agent login names; each has password "+lpsim.DemoPassword+
		", the OAuth2 app clientId=<login>-client-id, clientSecret="+lpsim.DemoClientSecret+
		" (appKey/secret with \"dummy\" tokens), and the OAuth1 key appKey=<login>-app-key, secret="+lpsim.DemoSecret+
		", accessToken=<login>-access-token, accessTokenSecret="+lpsim.DemoAccessTokenSecret)
	fs.IntVar(&agentsCount, "agents-count", 0, "instead of -agents: N agents bot.0001 ... bot.N (for load tests)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate file: serve HTTPS (with -tls-key)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key file of -tls-cert")
	fs.StringVar(&skills, "skills", "Support,Billing", "comma-separated skill names (ids 31100810, 31100811, ...); every agent has all of them")
	fs.IntVar(&o.maxChats, "max-chats", 4, "concurrent chats per agent (-1 = unlimited)")
	fs.Float64Var(&o.visitorsPerMin, "visitors-per-minute", 0, "scripted visitors: new chats per minute (0 = none)")
	fs.DurationVar(&o.script.LineInterval, "line-interval", lpsim.DefaultLineInterval, "scripted visitors: mean gap between lines")
	fs.IntVar(&o.script.LinesPerChat, "lines-per-chat", lpsim.DefaultLinesPerChat, "scripted visitors: lines before the visitor leaves")
	fs.IntVar(&o.script.MaxConcurrent, "max-concurrent", lpsim.DefaultMaxConcurrent, "scripted visitors: open chats at once")
	fs.Int64Var(&o.cfg.Seed, "seed", lpsim.DefaultSeed, "seed of ids and scripted choices")
	fs.DurationVar(&o.cfg.AcceptWindow, "accept-window", lpsim.DefaultAcceptWindow, "ringing time before the agent is set Away")
	fs.DurationVar(&o.cfg.SessionIdleTimeout, "idle-timeout", lpsim.DefaultSessionIdleTimeout, "agent session reaped after this long without requests")
	fs.DurationVar(&o.cfg.LoginTTL, "login-ttl", lpsim.DefaultLoginTTL, "login expires after this long without refresh")
	fs.BoolVar(&o.cfg.StrictCookies, "strict-cookies", false, "reject unsigned agent-session calls without the session cookie")
	fs.BoolVar(&o.cfg.PlainTextAuthErrors, "plain-auth-errors", false, "answer refused logins and bearers with plain-text oauth_problem=... bodies, as the real service does")
	fs.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.pprofAddr, "pprof-addr", "", "serve Go profiles under /debug/pprof/ on this address, e.g. 127.0.0.1:6061 (keep it private; off when empty)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.agents, o.skills = splitNames(agents), splitNames(skills)
	if agentsCount > 0 {
		o.agents = countedAgents(agentsCount)
	}
	if err := o.logLevel.UnmarshalText([]byte(level)); err != nil {
		return o, fmt.Errorf("-log-level: %w", err)
	}
	switch {
	case len(o.agents) == 0:
		return o, errors.New("-agents: at least one agent is needed")
	case o.maxChats < -1 || o.maxChats == 0:
		return o, errors.New("-max-chats: must be -1 or positive")
	case o.visitorsPerMin < 0:
		return o, errors.New("-visitors-per-minute: must not be negative")
	case (o.tlsCert == "") != (o.tlsKey == ""):
		return o, errors.New("-tls-cert and -tls-key go together")
	}
	o.script.ChatsPerMinute = o.visitorsPerMin
	return o, nil
}

// countedAgents names n agents bot.0001, bot.0002, ...: zero-padded so that
// they sort in order, wider than four digits only beyond 9999.
func countedAgents(n int) []string {
	width := max(4, len(strconv.Itoa(n)))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("bot.%0*d", width, i+1)
	}
	return out
}

// agentList names the agents for the banner, the first few of a long list.
func agentList(agents []string) string {
	const shown = 5 // a load test's thousands of names would flood the terminal
	if len(agents) <= shown {
		return strings.Join(agents, ", ")
	}
	return fmt.Sprintf("%s, ... %s (%d)", strings.Join(agents[:shown-1], ", "), agents[len(agents)-1], len(agents))
}

func splitNames(v string) []string {
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// run serves the simulator until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	o.cfg.Logger = slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: o.logLevel}))
	sim, err := lpsim.New(o.cfg)
	if err != nil {
		return err
	}
	defer sim.Close()
	skills, err := sim.AddDemo(lpsim.DemoSpec{AccountID: o.account, Agents: o.agents, Skills: o.skills, MaxChats: o.maxChats})
	if err != nil {
		return err
	}
	var skillIDs []string
	for _, sk := range skills {
		skillIDs = append(skillIDs, sk.Name+"="+sk.ID)
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	base := "http://" + ln.Addr().String()
	if o.tlsCert != "" {
		base = "https://" + ln.Addr().String()
		go func() { serveErr <- srv.ServeTLS(ln, o.tlsCert, o.tlsKey) }()
	} else {
		go func() { serveErr <- srv.Serve(ln) }()
	}
	fmt.Fprintf(stdout, "lpsim: Chat Agent API simulator listening on %s\n", base)
	fmt.Fprintf(stdout, "lpsim: account %s; agents %s (demo credentials: see -help); skills %s\n",
		o.account, agentList(o.agents), strings.Join(skillIDs, ", "))
	fmt.Fprintf(stdout, "lpsim: start with: curl '%s/api/account/%s/service/agentVep/baseURI.json?version=1.0'\n", base, o.account)
	fmt.Fprintln(stdout, "lpsim: curl walkthrough: README, section Simulator; control API under /sim/ (see internal/lpsim/doc.go)")
	fmt.Fprintf(stdout, "lpsim: visitor console: %s%s\n", base, console.Prefix)
	if o.pprofAddr != "" {
		stopProfiles, err := serveProfiles(o.pprofAddr, stdout)
		if err != nil {
			return err
		}
		defer stopProfiles()
	}
	if o.script.ChatsPerMinute > 0 {
		sim.StartScriptedVisitors(ctx, o.account, o.script)
		fmt.Fprintf(stdout, "lpsim: scripted visitors: %g chats per minute\n", o.script.ChatsPerMinute)
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(stdout, "lpsim: stopped")
	return nil
}
