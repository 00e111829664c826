package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/lpsim/console"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// demoMaxChats keeps each demo bot busy but not flooded.
const demoMaxChats = 4

// startEmbeddedSim serves the simulator's demo account (two bots, two
// skills) on loopback with scripted visitors, and returns its base URL and
// the agents the bridge runs against it: they go Online and accept on their
// own. bot.one logs in with the demo password, the others with their OAuth2
// app (the way bots log in), so the demo runs both paths. The demo password
// and client secret are fixed values of the in-process simulator, not
// secrets.
func startEmbeddedSim(ctx context.Context, cfg Config, logger *slog.Logger) (string, []poller.AgentConfig, func(), error) {
	sim, err := lpsim.New(lpsim.Config{Seed: time.Now().UnixNano(), StrictCookies: true, Logger: logger.With("component", "lpsim")})
	if err != nil {
		return "", nil, nil, fmt.Errorf("embedded simulator: %w", err)
	}
	spec := lpsim.DemoSpec{AccountID: lpsim.DemoAccountID, Agents: []string{"bot.one", "bot.two"}, MaxChats: demoMaxChats}
	if _, err := sim.AddDemo(spec); err != nil {
		sim.Close()
		return "", nil, nil, fmt.Errorf("embedded simulator: %w", err)
	}
	var agents []poller.AgentConfig
	for i, login := range spec.Agents {
		cr := lpchat.OAuth2App(login, lpsim.DemoClientID(login), lpsim.DemoClientSecret)
		if i == 0 {
			cr = lpchat.Credentials{Username: login, Password: lpsim.DemoPassword}
		}
		agents = append(agents, poller.AgentConfig{LoginName: login, Credentials: cr, GoOnline: true, AutoAccept: true})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sim.Close()
		return "", nil, nil, fmt.Errorf("embedded simulator: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("embedded simulator stopped", "err", err)
		}
	}()
	if cfg.SimVisitorsPerMinute > 0 {
		sim.StartScriptedVisitors(ctx, lpsim.DemoAccountID, lpsim.ScriptConfig{ChatsPerMinute: cfg.SimVisitorsPerMinute})
	}
	url := "http://" + ln.Addr().String()
	logger.Info("embedded LivePerson simulator started", "url", url, "account", lpsim.DemoAccountID)
	logger.Info("visitor console", "url", url+console.Prefix)
	stop := func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		sim.Close()
	}
	return url, agents, stop, nil
}
