package lpconformance_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpconformance"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// The in-process simulator's account; its agents log in by password or as
// an OAuth2 app (client id and secret, "dummy" tokens, §4.2).
const (
	simAccount = "55500042"
	simSkill   = "31100810"
	simPass    = "conformance-pw"
	simSecret  = "conformance-client-secret"
)

// newSimHandler is a simulator with strict cookies (so the suite's jars
// are exercised, §10), two skills and two agents; it closes with the test.
func newSimHandler(t testing.TB) *lpsim.Simulator {
	t.Helper()
	sim, err := lpsim.New(lpsim.Config{StrictCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	must(t, sim.AddAccount(simAccount))
	must(t, sim.AddSkill(simAccount, lpsim.SkillSpec{ID: simSkill, Name: "Support"}))
	must(t, sim.AddSkill(simAccount, lpsim.SkillSpec{ID: "31100811", Name: "Billing"}))
	for _, login := range []string{"bot.one", "bot.two"} {
		must(t, sim.AddAgent(simAccount, lpsim.AgentSpec{LoginName: login, Password: simPass,
			AppKey: login + "-client-id", Secret: simSecret, AccessToken: "dummy", AccessTokenSecret: "dummy",
			MaxChats: 4, SkillIDs: []string{simSkill, "31100811"}}))
	}
	return sim
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// inProcessTarget runs the simulator on an httptest server (127.0.0.1);
// wrap, when set, sits between the server and the simulator.
func inProcessTarget(t testing.TB, wrap func(http.Handler) http.Handler) lpconformance.Target {
	t.Helper()
	sim := newSimHandler(t)
	var h http.Handler = sim
	if wrap != nil {
		h = wrap(sim)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	agent := func(login string) lpconformance.Agent {
		// AccessToken and AccessTokenSecret unset: "dummy", an OAuth2 app.
		return lpconformance.Agent{Username: login, Password: simPass, AppKey: login + "-client-id", Secret: simSecret}
	}
	return lpconformance.Target{
		DomainURL: srv.URL, Account: simAccount, SkillID: simSkill,
		Agent: agent("bot.one"), SecondAgent: agent("bot.two"),
		Visitor: &lpconformance.SimVisitor{ControlURL: srv.URL, Account: simAccount, Client: srv.Client()},
	}
}

func TestSimulatorInProcess(t *testing.T) {
	lpconformance.Run(t, inProcessTarget(t, nil))
}

// listening is cmd/lpsim's first line (see cmd/lpsim/main.go).
var listening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// startCmdLPSim builds cmd/lpsim, starts it on a free port of 127.0.0.1
// and returns its URL; it stops with the test.
func startCmdLPSim(t *testing.T, args ...string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build cmd/lpsim")
	}
	bin := filepath.Join(t.TempDir(), "lpsim")
	build := exec.CommandContext(t.Context(), goBin, "build", "-o", bin, "github.com/lpbridge/lpbridge/cmd/lpsim")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build cmd/lpsim: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-log-level", "warn"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			t.Logf("cmd/lpsim stopped: %v", err)
		case <-time.After(cmdStopTimeout):
			_ = cmd.Process.Kill()
			t.Errorf("cmd/lpsim did not stop within %s: killed, %v", cmdStopTimeout, <-done)
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(cmdStartTimeout):
		t.Fatal("cmd/lpsim printed no listening line")
		return ""
	}
}

// cmdStartTimeout and cmdStopTimeout bound the process's start (it listens
// at once) and its graceful stop (cmd/lpsim's own bound is 5 s).
const (
	cmdStartTimeout = 10 * time.Second
	cmdStopTimeout  = 10 * time.Second
)

// TestCmdLPSim runs the suite over HTTP against cmd/lpsim as its own
// process, with its demo account and credentials (-help lists them; the
// agents' API keys are OAuth1-style, with real access tokens).
func TestCmdLPSim(t *testing.T) {
	url := startCmdLPSim(t, "-strict-cookies")
	agent := func(login string) lpconformance.Agent {
		return lpconformance.Agent{Username: login, Password: lpsim.DemoPassword, AppKey: login + "-app-key",
			Secret: lpsim.DemoSecret, AccessToken: login + "-access-token", AccessTokenSecret: lpsim.DemoAccessTokenSecret}
	}
	lpconformance.Run(t, lpconformance.Target{
		DomainURL: url, Account: lpsim.DemoAccountID, SkillID: "31100810",
		Agent: agent("bot.one"), SecondAgent: agent("bot.two"),
		Visitor: &lpconformance.SimVisitor{ControlURL: url, Account: lpsim.DemoAccountID},
	})
}

// TestUserTarget runs the suite against the server the LPCONFORMANCE_*
// variables name (README, "Conformance suite").
func TestUserTarget(t *testing.T) {
	tg, ok, err := lpconformance.TargetFromEnv()
	if !ok {
		t.Skip("set " + lpconformance.EnvDomainURL + " (and the other LPCONFORMANCE_* variables) to run the suite against your server")
	}
	if err != nil {
		t.Fatal(err)
	}
	lpconformance.Run(t, tg)
}
