package lpconformance

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Defaults of a Target.
const (
	// DefaultPollInterval is how often the suite polls while it waits for a
	// ring or an event: short, because the suite runs against test doubles;
	// raise it (the reference asks for ≥ 2 s, §8) against a shared server.
	DefaultPollInterval = 20 * time.Millisecond
	// DefaultWaitTimeout bounds every wait for a ring or an event; well
	// inside the 20 s accept window (§5.9), so a ring is accepted in time.
	DefaultWaitTimeout = 10 * time.Second
	// DefaultHTTPTimeout bounds one request; a test double answers at once.
	DefaultHTTPTimeout = 10 * time.Second
	// dummyToken is what an OAuth2 client-credentials app sends as both
	// access token values (§4.2).
	dummyToken = "dummy"
)

// Agent is one agent (user) the suite logs in as.
type Agent struct {
	// Username is the login name. Required.
	Username string
	// Password enables the user login (§4.1). Password or AppKey is required.
	Password string
	// AppKey is the OAuth2 app's client_id (or an OAuth1 consumer key) for
	// the application login (§4.2). Optional.
	AppKey string
	// Secret is the app's client_secret; required with AppKey.
	Secret string
	// AccessToken of an OAuth1 API key; default "dummy" (an OAuth2 app).
	AccessToken string
	// AccessTokenSecret of an OAuth1 API key; default "dummy".
	AccessTokenSecret string
}

// Target is the server under test.
type Target struct {
	// DomainURL is the Domain API base (§3), e.g. "http://127.0.0.1:8280".
	// Required. The agentVep host it names is used with the same scheme.
	DomainURL string
	// Account is the account id. Required.
	Account string
	// Agent is the agent most cases log in as. Required. Its maxChats must
	// allow two chats at once, and it must have Skill.
	Agent Agent
	// SecondAgent is another agent with Skill, for transfer and for cookies
	// per agent; zero skips those cases.
	SecondAgent Agent
	// Visitor starts chats; nil skips every case that needs a chat to ring.
	Visitor Visitor
	// SkillID is the skill (id) the visitors' chats ask for; required with
	// Visitor.
	SkillID string
	// PollInterval; default DefaultPollInterval.
	PollInterval time.Duration
	// WaitTimeout; default DefaultWaitTimeout.
	WaitTimeout time.Duration
	// HTTPTimeout bounds one request; default DefaultHTTPTimeout.
	HTTPTimeout time.Duration
	// Transport sends the suite's requests; default http.DefaultTransport.
	Transport http.RoundTripper
}

func (tg *Target) setDefaults() {
	if tg.PollInterval <= 0 {
		tg.PollInterval = DefaultPollInterval
	}
	if tg.WaitTimeout <= 0 {
		tg.WaitTimeout = DefaultWaitTimeout
	}
	if tg.HTTPTimeout <= 0 {
		tg.HTTPTimeout = DefaultHTTPTimeout
	}
	if tg.Transport == nil {
		tg.Transport = http.DefaultTransport
	}
	for _, a := range []*Agent{&tg.Agent, &tg.SecondAgent} {
		if a.AccessToken == "" {
			a.AccessToken = dummyToken
		}
		if a.AccessTokenSecret == "" {
			a.AccessTokenSecret = dummyToken
		}
	}
}

func (a Agent) validate(field string) error {
	var errs []error
	if a.Username == "" {
		errs = append(errs, fmt.Errorf("%s.Username is required", field))
	}
	if a.Password == "" && a.AppKey == "" {
		errs = append(errs, fmt.Errorf("%s: Password or AppKey is required", field))
	}
	if a.AppKey != "" && a.Secret == "" {
		errs = append(errs, fmt.Errorf("%s.Secret is required with AppKey", field))
	}
	return errors.Join(errs...)
}

// Validate reports every problem of the target at once.
func (tg Target) Validate() error {
	var errs []error
	if u, err := url.Parse(tg.DomainURL); tg.DomainURL == "" || err != nil || u.Host == "" ||
		(u.Scheme != "http" && u.Scheme != "https") {
		errs = append(errs, fmt.Errorf("DomainURL %q must be an absolute http(s) URL", tg.DomainURL))
	}
	if tg.Account == "" {
		errs = append(errs, errors.New("the Account is required"))
	}
	errs = append(errs, tg.Agent.validate("Agent"))
	if tg.SecondAgent != (Agent{}) {
		errs = append(errs, tg.SecondAgent.validate("SecondAgent"))
	}
	if tg.Visitor != nil && tg.SkillID == "" {
		errs = append(errs, errors.New("SkillID is required with a Visitor"))
	}
	return errors.Join(errs...)
}

// hasSecondAgent tells whether the cases that need two agents can run.
func (tg *Target) hasSecondAgent() bool { return tg.SecondAgent.Username != "" }

// Environment variables of TargetFromEnv.
const (
	EnvDomainURL         = "LPCONFORMANCE_DOMAIN_URL"          // Target.DomainURL; unset = no run
	EnvAccount           = "LPCONFORMANCE_ACCOUNT"             // Target.Account
	EnvUsername          = "LPCONFORMANCE_USERNAME"            // Agent.Username (…2: SecondAgent)
	EnvPassword          = "LPCONFORMANCE_PASSWORD"            // Agent.Password
	EnvAppKey            = "LPCONFORMANCE_APP_KEY"             // Agent.AppKey
	EnvSecret            = "LPCONFORMANCE_SECRET"              // Agent.Secret
	EnvAccessToken       = "LPCONFORMANCE_ACCESS_TOKEN"        // Agent.AccessToken [dummy]
	EnvAccessTokenSecret = "LPCONFORMANCE_ACCESS_TOKEN_SECRET" // Agent.AccessTokenSecret [dummy]
	EnvSkillID           = "LPCONFORMANCE_SKILL_ID"            // Target.SkillID
	EnvSimControlURL     = "LPCONFORMANCE_SIM_CONTROL_URL"     // base of an lpsim-style /sim/ API: the Visitor
	EnvPollInterval      = "LPCONFORMANCE_POLL_INTERVAL"       // Target.PollInterval, a Go duration
)

// TargetFromEnv reads a Target from the LPCONFORMANCE_* variables; ok is
// false when EnvDomainURL is unset. The second agent's variables end in 2
// (LPCONFORMANCE_USERNAME2, LPCONFORMANCE_PASSWORD2, …). With
// EnvSimControlURL set, the Visitor is a SimVisitor on that base.
func TargetFromEnv() (tg Target, ok bool, err error) {
	tg.DomainURL = os.Getenv(EnvDomainURL)
	if tg.DomainURL == "" {
		return Target{}, false, nil
	}
	agent := func(suffix string) Agent {
		return Agent{
			Username: os.Getenv(EnvUsername + suffix), Password: os.Getenv(EnvPassword + suffix),
			AppKey: os.Getenv(EnvAppKey + suffix), Secret: os.Getenv(EnvSecret + suffix),
			AccessToken: os.Getenv(EnvAccessToken + suffix), AccessTokenSecret: os.Getenv(EnvAccessTokenSecret + suffix),
		}
	}
	tg.Account, tg.SkillID = os.Getenv(EnvAccount), os.Getenv(EnvSkillID)
	tg.Agent, tg.SecondAgent = agent(""), agent("2")
	if v := os.Getenv(EnvPollInterval); v != "" {
		if tg.PollInterval, err = time.ParseDuration(v); err != nil {
			return tg, true, fmt.Errorf("%s: %w", EnvPollInterval, err)
		}
	}
	if v := os.Getenv(EnvSimControlURL); v != "" {
		tg.Visitor = &SimVisitor{ControlURL: v, Account: tg.Account}
	}
	if err := tg.Validate(); err != nil {
		return tg, true, fmt.Errorf("invalid target from %s…: %w", "LPCONFORMANCE_", err)
	}
	return tg, true, nil
}
