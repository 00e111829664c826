package main

import (
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

func TestParseAgents(t *testing.T) {
	t.Parallel()
	agents, err := parseAgents([]byte(`{"agents":[
		{"loginName":"bot.one","password":"pw1","autoAccept":true},
		{"loginName":"bot.two","appKey":"k","secret":"s","accessToken":"t","accessTokenSecret":"ts","goOnline":false}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 2 {
		t.Fatalf("got %d agents", len(agents))
	}
	if a := agents[0]; a.LoginName != "bot.one" || a.Credentials.Password != "pw1" || !a.AutoAccept || !a.GoOnline {
		t.Errorf("agent 0 = %+v", a)
	}
	if a := agents[1]; a.Credentials.AppKey != "k" || a.Credentials.AccessTokenSecret != "ts" || a.GoOnline || a.AutoAccept {
		t.Errorf("agent 1 = %+v", a)
	}
}

func TestParseAgentsRejectsBadFiles(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ doc, want string }{
		"not json":       {`{`, "agents file"},
		"empty":          {`{"agents":[]}`, "no agents"},
		"typo in field":  {`{"agents":[{"loginName":"a","pasword":"x"}]}`, "unknown field"},
		"no login":       {`{"agents":[{"password":"sekrit-x"}]}`, "loginName is required"},
		"no credentials": {`{"agents":[{"loginName":"a"}]}`, "a password or an OAuth2 app (clientId and clientSecret) is required"},
		"both":           {`{"agents":[{"loginName":"a","password":"sekrit-x","appKey":"k"}]}`, "not both"},
		"app and password": {`{"agents":[{"loginName":"a","password":"sekrit-x","clientId":"c","clientSecret":"sekrit-y"}]}`,
			"not both"},
		"two spellings": {`{"agents":[{"loginName":"a","clientId":"c","clientSecret":"sekrit-y","appKey":"c","secret":"sekrit-y"}]}`,
			"not both"},
		"client id alone":     {`{"agents":[{"loginName":"a","clientId":"c"}]}`, "needs clientId and clientSecret"},
		"client secret alone": {`{"agents":[{"loginName":"a","clientSecret":"sekrit-y"}]}`, "needs clientId and clientSecret"},
		"partial key":         {`{"agents":[{"loginName":"a","appKey":"k"}]}`, "needs appKey and secret"},
		"one token": {`{"agents":[{"loginName":"a","appKey":"k","secret":"sekrit-y","accessToken":"sekrit-t"}]}`,
			"needs accessToken and accessTokenSecret"},
		"twice": {`{"agents":[{"loginName":"a","password":"sekrit-x"},{"loginName":"a","password":"sekrit-y"}]}`, "listed twice"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := parseAgents([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "sekrit") {
				t.Errorf("error leaks a password: %v", err)
			}
		})
	}
}

// TestParseAgentsOAuth2App: an OAuth2 app is clientId and clientSecret, or
// the same values as appKey and secret without tokens; both log in with the
// client id and secret and "dummy" tokens (chat-agent-api.md §4.2).
func TestParseAgentsOAuth2App(t *testing.T) {
	t.Parallel()
	agents, err := parseAgents([]byte(`{"agents":[
		{"loginName":"bot.one","clientId":"cid-1","clientSecret":"csec-1"},
		{"loginName":"bot.two","appKey":"cid-2","secret":"csec-2"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []lpchat.Credentials{lpchat.OAuth2App("bot.one", "cid-1", "csec-1"), lpchat.OAuth2App("bot.two", "cid-2", "csec-2")}
	for i, a := range agents {
		if a.Credentials != want[i] || !a.GoOnline {
			t.Errorf("agent %d: credentials %#v, want the OAuth2 app %#v", i, a, want[i])
		}
	}
}

// TestLoadAgentsOAuth2FromEnv: the environment's agent may be an OAuth2 app
// in either spelling; mixing kinds is refused without showing a value.
func TestLoadAgentsOAuth2FromEnv(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cfg  Config
		want lpchat.Credentials
		err  string
	}{
		"client id":       {cfg: Config{AgentLogin: "bot", AgentClientID: "cid", AgentClientSecret: "sekrit-c"}, want: lpchat.OAuth2App("bot", "cid", "sekrit-c")},
		"app key":         {cfg: Config{AgentLogin: "bot", AgentAppKey: "cid", AgentSecret: "sekrit-c"}, want: lpchat.OAuth2App("bot", "cid", "sekrit-c")},
		"with a password": {cfg: Config{AgentLogin: "bot", AgentPassword: "sekrit-p", AgentClientID: "cid", AgentClientSecret: "sekrit-c"}, err: "not both"},
		"no secret":       {cfg: Config{AgentLogin: "bot", AgentClientID: "cid"}, err: "needs clientId and clientSecret"},
	} {
		agents, err := loadAgents(tc.cfg)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "sekrit") {
				t.Errorf("%s: err = %v, want %q without a value", name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case len(agents) != 1 || agents[0].Credentials != tc.want:
			t.Errorf("%s: agents %#v, want %#v", name, agents, tc.want)
		}
	}
}
