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

// agentEntry is one agent: its login name and one kind of credentials: an
// OAuth2 app (clientId and clientSecret, or the same values as appKey and
// secret without tokens: how bots log in), a password (a person's account),
// or the four values of an old OAuth1 API key (end of life 2026-04-30).
type agentEntry struct {
	LoginName         string `json:"loginName"`
	Password          string `json:"password"`
	ClientID          string `json:"clientId"`
	ClientSecret      string `json:"clientSecret"`
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
			ClientID: cfg.AgentClientID, ClientSecret: cfg.AgentClientSecret,
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
	cr, err := e.credentials()
	if err != nil {
		return poller.AgentConfig{}, err
	}
	goOnline := true
	if e.GoOnline != nil {
		goOnline = *e.GoOnline
	}
	return poller.AgentConfig{
		LoginName:   e.LoginName,
		Credentials: cr,
		GoOnline:    goOnline,
		AutoAccept:  e.AutoAccept,

		RestoreAvailability: e.RestoreAvailability,
	}, nil
}

// credentials checks that the entry holds exactly one kind of credentials
// and returns it. Errors name the fields, never their values.
func (e agentEntry) credentials() (lpchat.Credentials, error) {
	if e.LoginName == "" {
		return lpchat.Credentials{}, errors.New("loginName is required")
	}
	oauth2 := e.ClientID != "" || e.ClientSecret != ""
	key := e.AppKey != "" || e.Secret != "" || e.AccessToken != "" || e.AccessTokenSecret != ""
	kinds := 0
	for _, set := range []bool{e.Password != "", oauth2, key} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		return lpchat.Credentials{}, fmt.Errorf("agent %q: give a password, clientId and clientSecret, or appKey and secret, not both", e.LoginName)
	case kinds == 0:
		return lpchat.Credentials{}, fmt.Errorf("agent %q: a password or an OAuth2 app (clientId and clientSecret) is required", e.LoginName)
	case oauth2 && (e.ClientID == "" || e.ClientSecret == ""):
		return lpchat.Credentials{}, fmt.Errorf("agent %q: an OAuth2 app needs clientId and clientSecret", e.LoginName)
	case key && (e.AppKey == "" || e.Secret == ""):
		return lpchat.Credentials{}, fmt.Errorf("agent %q: an app needs appKey and secret (an OAuth2 app's client id and secret)", e.LoginName)
	case key && (e.AccessToken == "") != (e.AccessTokenSecret == ""):
		return lpchat.Credentials{}, fmt.Errorf("agent %q: an OAuth1 API key needs accessToken and accessTokenSecret (an OAuth2 app neither)", e.LoginName)
	case oauth2:
		return lpchat.OAuth2App(e.LoginName, e.ClientID, e.ClientSecret), nil
	}
	return lpchat.Credentials{
		Username: e.LoginName, Password: e.Password,
		AppKey: e.AppKey, Secret: e.Secret,
		AccessToken: e.AccessToken, AccessTokenSecret: e.AccessTokenSecret,
	}, nil
}
