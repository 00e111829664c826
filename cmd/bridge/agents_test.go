package main

import (
	"strings"
	"testing"
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
		"no credentials": {`{"agents":[{"loginName":"a"}]}`, "password or an API key is required"},
		"both":           {`{"agents":[{"loginName":"a","password":"sekrit-x","appKey":"k"}]}`, "not both"},
		"partial key":    {`{"agents":[{"loginName":"a","appKey":"k"}]}`, "needs appKey, secret"},
		"twice":          {`{"agents":[{"loginName":"a","password":"sekrit-x"},{"loginName":"a","password":"sekrit-y"}]}`, "listed twice"},
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
