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

// The embedded demo: one account, two skills, two bots that go Online and
// accept on their own, and scripted visitors. The passwords are fixed demo
// values of the in-process simulator, not secrets.
const (
	demoAccount  = "55500011"
	demoPassword = "demo-password"
)

func demoAgents() []lpsim.AgentSpec {
	return []lpsim.AgentSpec{
		{LoginName: "bot.one", Password: demoPassword, Nickname: "Bot One", MaxChats: 4, SkillIDs: []string{"31100810"}},
		{LoginName: "bot.two", Password: demoPassword, Nickname: "Bot Two", MaxChats: 4, SkillIDs: []string{"31100810", "31100811"}},
	}
}

func demoSkills() []lpsim.SkillSpec {
	return []lpsim.SkillSpec{{ID: "31100810", Name: "Support"}, {ID: "31100811", Name: "Billing"}}
}

// startEmbeddedSim serves a simulator on loopback with the demo account, and
// returns its base URL and the agents the bridge runs against it.
func startEmbeddedSim(ctx context.Context, cfg Config, logger *slog.Logger) (string, []poller.AgentConfig, func(), error) {
	sim, err := lpsim.New(lpsim.Config{Seed: time.Now().UnixNano(), Logger: logger.With("component", "lpsim")})
	if err != nil {
		return "", nil, nil, fmt.Errorf("embedded simulator: %w", err)
	}
	var errs []error
	errs = append(errs, sim.AddAccount(demoAccount))
	for _, sk := range demoSkills() {
		errs = append(errs, sim.AddSkill(demoAccount, sk))
	}
	var agents []poller.AgentConfig
	for _, a := range demoAgents() {
		errs = append(errs, sim.AddAgent(demoAccount, a))
		agents = append(agents, poller.AgentConfig{
			LoginName:   a.LoginName,
			Credentials: lpchat.Credentials{Username: a.LoginName, Password: a.Password},
			GoOnline:    true,
			AutoAccept:  true,
		})
	}
	if err := errors.Join(errs...); err != nil {
		sim.Close()
		return "", nil, nil, fmt.Errorf("embedded simulator: %w", err)
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
		sim.StartScriptedVisitors(ctx, demoAccount, lpsim.ScriptConfig{ChatsPerMinute: cfg.SimVisitorsPerMinute})
	}
	url := "http://" + ln.Addr().String()
	logger.Info("embedded LivePerson simulator started", "url", url, "account", demoAccount)
	stop := func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		sim.Close()
	}
	return url, agents, stop, nil
}
