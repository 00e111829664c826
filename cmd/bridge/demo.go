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
	"github.com/lpbridge/lpbridge/internal/poller"
)

// demoMaxChats keeps each demo bot busy but not flooded.
const demoMaxChats = 4

// startEmbeddedSim serves the simulator's demo account (two bots, two
// skills) on loopback with scripted visitors, and returns its base URL and
// the agents the bridge runs against it: they go Online and accept on their
// own. The demo password is a fixed value of the in-process simulator, not a
// secret.
func startEmbeddedSim(ctx context.Context, cfg Config, logger *slog.Logger) (string, []poller.AgentConfig, func(), error) {
	sim, err := lpsim.New(lpsim.Config{Seed: time.Now().UnixNano(), Logger: logger.With("component", "lpsim")})
	if err != nil {
		return "", nil, nil, fmt.Errorf("embedded simulator: %w", err)
	}
	spec := lpsim.DemoSpec{AccountID: lpsim.DemoAccountID, Agents: []string{"bot.one", "bot.two"}, MaxChats: demoMaxChats}
	if _, err := sim.AddDemo(spec); err != nil {
		sim.Close()
		return "", nil, nil, fmt.Errorf("embedded simulator: %w", err)
	}
	var agents []poller.AgentConfig
	for _, login := range spec.Agents {
		agents = append(agents, poller.AgentConfig{
			LoginName:   login,
			Credentials: lpchat.Credentials{Username: login, Password: lpsim.DemoPassword},
			GoOnline:    true,
			AutoAccept:  true,
		})
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
	stop := func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		sim.Close()
	}
	return url, agents, stop, nil
}
