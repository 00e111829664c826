package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/poller"
)

// agentsFile is the JSON document BRIDGE_AGENTS_FILE points at.
type agentsFile struct {
	Agents []agentEntry `json:"agents"`
}

// agentEntry is one agent: its login name and either a password or the four
// values of an API key.
type agentEntry struct {
	LoginName         string `json:"loginName"`
	Password          string `json:"password"`
	AppKey            string `json:"appKey"`
	Secret            string `json:"secret"`
	AccessToken       string `json:"accessToken"`
	AccessTokenSecret string `json:"accessTokenSecret"`
	GoOnline          *bool  `json:"goOnline"`
	AutoAccept        bool   `json:"autoAccept"`
	// RestoreAvailability: see Config.AgentRestoreAvailability.
	RestoreAvailability bool `json:"restoreAvailability"`
}

// loadAgents reads the agents the bridge runs: from the agents file, or the
// one agent configured in the environment.
func loadAgents(cfg Config) ([]poller.AgentConfig, error) {
	if cfg.AgentLogin != "" {
		e := agentEntry{
			LoginName: cfg.AgentLogin, Password: cfg.AgentPassword,
			AppKey: cfg.AgentAppKey, Secret: cfg.AgentSecret,
			AccessToken: cfg.AgentAccessToken, AccessTokenSecret: cfg.AgentAccessTokenSecret,
			GoOnline: &cfg.AgentGoOnline, AutoAccept: cfg.AgentAutoAccept,
		}
		e.RestoreAvailability = cfg.AgentRestoreAvailability
		a, err := e.agentConfig()
		if err != nil {
			return nil, fmt.Errorf("agent from environment: %w", err)
		}
		return []poller.AgentConfig{a}, nil
	}
	raw, err := os.ReadFile(cfg.AgentsFile)
	if err != nil {
		return nil, fmt.Errorf("read agents file: %w", err)
	}
	return parseAgents(raw)
}

// parseAgents decodes an agents file; unknown fields are an error so a typo
// in a field name does not silently drop a credential.
func parseAgents(raw []byte) ([]poller.AgentConfig, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var f agentsFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("agents file: %w", err)
	}
	if len(f.Agents) == 0 {
		return nil, errors.New("agents file: no agents")
	}
	seen := map[string]bool{}
	var out []poller.AgentConfig
	var errs []error
	for i, e := range f.Agents {
		a, err := e.agentConfig()
		if err != nil {
			errs = append(errs, fmt.Errorf("agents[%d]: %w", i, err))
			continue
		}
		if seen[a.LoginName] {
			errs = append(errs, fmt.Errorf("agents[%d]: login name %q listed twice", i, a.LoginName))
			continue
		}
		seen[a.LoginName] = true
		out = append(out, a)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func (e agentEntry) agentConfig() (poller.AgentConfig, error) {
	if e.LoginName == "" {
		return poller.AgentConfig{}, errors.New("loginName is required")
	}
	appLogin := e.AppKey != "" || e.Secret != "" || e.AccessToken != "" || e.AccessTokenSecret != ""
	switch {
	case e.Password != "" && appLogin:
		return poller.AgentConfig{}, fmt.Errorf("agent %q: give a password or an API key, not both", e.LoginName)
	case appLogin && (e.AppKey == "" || e.Secret == "" || e.AccessToken == "" || e.AccessTokenSecret == ""):
		return poller.AgentConfig{}, fmt.Errorf("agent %q: an API key needs appKey, secret, accessToken and accessTokenSecret", e.LoginName)
	case !appLogin && e.Password == "":
		return poller.AgentConfig{}, fmt.Errorf("agent %q: a password or an API key is required", e.LoginName)
	}
	goOnline := true
	if e.GoOnline != nil {
		goOnline = *e.GoOnline
	}
	return poller.AgentConfig{
		LoginName: e.LoginName,
		Credentials: lpchat.Credentials{
			Username: e.LoginName, Password: e.Password,
			AppKey: e.AppKey, Secret: e.Secret,
			AccessToken: e.AccessToken, AccessTokenSecret: e.AccessTokenSecret,
		},
		GoOnline:   goOnline,
		AutoAccept: e.AutoAccept,

		RestoreAvailability: e.RestoreAvailability,
	}, nil
}
