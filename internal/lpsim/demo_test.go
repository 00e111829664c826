package lpsim_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

func TestAddDemo(t *testing.T) {
	sim, err := lpsim.New(lpsim.Config{})
	must(t, err)
	t.Cleanup(sim.Close)
	skills, err := sim.AddDemo(lpsim.DemoSpec{})
	must(t, err)
	if len(skills) != 2 || skills[0] != (lpsim.DemoSkill{ID: "31100810", Name: "Support"}) {
		t.Fatalf("demo skills %v", skills)
	}
	if _, err := sim.AddDemo(lpsim.DemoSpec{}); !errors.Is(err, lpsim.ErrAccountExists) {
		t.Fatalf("second demo: %v", err)
	}
	e := &env{sim: sim}
	e.srv = newServer(t, sim)
	c := e.client(t)
	c.base = e.srv.URL + "/api/account/" + lpsim.DemoAccountID
	c.do(http.MethodPost, c.base+"/login", map[string]string{"username": "bot.two", "appKey": "bot.two-app-key",
		"secret": lpsim.DemoSecret, "accessToken": "bot.two-access-token", "accessTokenSecret": lpsim.DemoAccessTokenSecret}).expect(t, 200)
	c.login("bot.one", lpsim.DemoPassword)
	c.startSession()
	info := c.get(c.as+"/info").expect(t, 200).doc
	if str(t, info, "info.agentName") != "Bot One" || str(t, info, "info.maxChats") != "-1" ||
		len(list(t, info, "info.skillsInfo.skillInfo")) != 2 {
		t.Fatalf("demo agent: %v", info)
	}
}
