package lpchat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
)

// redacted stands in for a secret in every rendering.
const redacted = "[REDACTED]"

// oauth2Token is what an OAuth2 client-credentials app sends in accessToken
// and accessTokenSecret: LivePerson's application-login page asks for this
// literal, since such an app has no tokens (chat-agent-api.md §4.2).
const oauth2Token = "dummy"

// Login methods, as logs and MarshalJSON name them.
const (
	methodPassword = "password"
	methodOAuth2   = "oauth2-app"
	methodOAuth1   = "oauth1-key"
)

// OAuth2App returns the credentials of a bot that logs in with an OAuth2
// client-credentials app, the way LivePerson asks bots to log in since
// OAuth1 API keys reached end of life (2026-04-30, §4.2): the client id goes
// in AppKey, the client secret in Secret, and Login sends "dummy" as both
// tokens.
func OAuth2App(username, clientID, clientSecret string) Credentials {
	return Credentials{Username: username, AppKey: clientID, Secret: clientSecret}
}

// IsAppLogin reports whether cr is an application login (§4.2: an OAuth2
// app or an OAuth1 API key) rather than a user login with a password (§4.1).
func (cr Credentials) IsAppLogin() bool { return cr.Password == "" }

// isOAuth2 reports whether the application login is an OAuth2 app: AppKey
// and Secret without tokens, or with the "dummy" ones the docs show.
func (cr Credentials) isOAuth2() bool {
	return (cr.AccessToken == "" && cr.AccessTokenSecret == "") ||
		(cr.AccessToken == oauth2Token && cr.AccessTokenSecret == oauth2Token)
}

// validate returns every problem of cr.
func (cr Credentials) validate() error {
	var errs []error
	if cr.Username == "" {
		errs = append(errs, errors.New("username is required"))
	}
	app := cr.AppKey != "" || cr.Secret != "" || cr.AccessToken != "" || cr.AccessTokenSecret != ""
	switch {
	case cr.Password != "" && app:
		errs = append(errs, errors.New("give either Password or the application's values, not both"))
	case cr.Password == "" && !app:
		errs = append(errs, errors.New("a password, an OAuth2 app (AppKey = client id, Secret = client secret) "+
			"or an OAuth1 API key (AppKey, Secret, AccessToken, AccessTokenSecret) is required"))
	case app && (cr.AppKey == "" || cr.Secret == ""):
		errs = append(errs, errors.New("an application login needs AppKey and Secret (an OAuth2 app's client id and secret)"))
	case app && (cr.AccessToken == "") != (cr.AccessTokenSecret == ""):
		errs = append(errs, errors.New("an OAuth1 API key needs both AccessToken and AccessTokenSecret (an OAuth2 app neither)"))
	}
	return errors.Join(errs...)
}

// loginBody returns the JSON body of the login request (§4.1, §4.2).
func (cr Credentials) loginBody() ([]byte, error) {
	if err := cr.validate(); err != nil {
		return nil, fmt.Errorf("lpchat: login: %w: credentials: %w", ErrInvalidConfig, err)
	}
	var v any
	if cr.IsAppLogin() {
		token, tokenSecret := cr.AccessToken, cr.AccessTokenSecret
		if cr.isOAuth2() {
			token, tokenSecret = oauth2Token, oauth2Token
		}
		v = struct {
			Username          string `json:"username"`
			AppKey            string `json:"appKey"`
			Secret            string `json:"secret"`
			AccessToken       string `json:"accessToken"`
			AccessTokenSecret string `json:"accessTokenSecret"`
		}{cr.Username, cr.AppKey, cr.Secret, token, tokenSecret}
	} else {
		v = struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}{cr.Username, cr.Password}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("lpchat: login: %w: %w", ErrInvalidConfig, err)
	}
	return b, nil
}

// secrets lists the secret values of cr (to keep out of error messages),
// also as a form-encoded answer such as "oauth_problem=...&oauth_consumer_key=..."
// would echo them. The "dummy" tokens of an OAuth2 app are no secret.
func (cr Credentials) secrets() []string {
	var out []string
	for _, s := range []string{cr.Password, cr.AppKey, cr.Secret, cr.AccessToken, cr.AccessTokenSecret} {
		if s == "" || s == oauth2Token {
			continue
		}
		out = append(out, s)
		if q := url.QueryEscape(s); q != s {
			out = append(out, q)
		}
	}
	return out
}

// kind names the login method for logs.
func (cr Credentials) kind() string {
	switch {
	case !cr.IsAppLogin():
		return methodPassword
	case cr.isOAuth2():
		return methodOAuth2
	}
	return methodOAuth1
}

// String renders cr without its secrets.
func (cr Credentials) String() string {
	return fmt.Sprintf("Credentials{Username: %q, Method: %s, secrets: %s}", cr.Username, cr.kind(), redacted)
}

// GoString renders cr for %#v without its secrets.
func (cr Credentials) GoString() string { return "lpchat." + cr.String() }

// Format makes every fmt verb (%v, %+v, %#v, %s, %d, %x, ...) print the
// redacted form, so no verb reaches the struct's fields.
func (cr Credentials) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, cr.String(), cr.GoString())
}

// LogValue logs the user name and login method, never the secrets.
func (cr Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", cr.Username), slog.String("method", cr.kind()))
}

// MarshalJSON encodes cr without its secrets (e.g. when a config is dumped).
func (cr Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Username string `json:"username"`
		Method   string `json:"method"`
		Secrets  string `json:"secrets"`
	}{cr.Username, cr.kind(), redacted})
}

// String renders s without the bearer and csrf.
func (s LoginSession) String() string {
	return fmt.Sprintf("LoginSession{LoginName: %q, UserID: %q, TTL: %s, Bearer: %s, CSRF: %s}",
		s.LoginName, s.UserID, s.TTL, redacted, redacted)
}

// GoString renders s for %#v without the bearer and csrf.
func (s LoginSession) GoString() string { return "lpchat." + s.String() }

// Format makes every fmt verb print the redacted form.
func (s LoginSession) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, s.String(), s.GoString())
}

// LogValue logs the session without the bearer and csrf.
func (s LoginSession) LogValue() slog.Value {
	return slog.GroupValue(slog.String("login_name", s.LoginName), slog.String("user_id", s.UserID),
		slog.Duration("ttl", s.TTL))
}

// MarshalJSON encodes s without the bearer and csrf.
func (s LoginSession) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		LoginName string            `json:"loginName"`
		UserID    string            `json:"userId"`
		TTL       string            `json:"ttl"`
		BaseURIs  map[string]string `json:"baseURIs,omitempty"`
	}{s.LoginName, s.UserID, s.TTL.String(), s.BaseURIs})
}

// formatRedacted writes the safe rendering for any verb.
func formatRedacted(f fmt.State, verb rune, s, gos string) {
	if verb == 'v' && f.Flag('#') {
		s = gos
	}
	if verb == 'q' {
		s = fmt.Sprintf("%q", s)
	}
	_, _ = io.WriteString(f, s)
}
