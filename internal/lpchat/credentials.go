package lpchat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// redacted stands in for a secret in every rendering.
const redacted = "[REDACTED]"

// IsAppLogin reports whether cr is an application (API-key) login (§4.2)
// rather than a user login with a password (§4.1).
func (cr Credentials) IsAppLogin() bool { return cr.Password == "" }

// validate returns every problem of cr.
func (cr Credentials) validate() error {
	var errs []error
	if cr.Username == "" {
		errs = append(errs, errors.New("username is required"))
	}
	app := cr.AppKey != "" || cr.Secret != "" || cr.AccessToken != "" || cr.AccessTokenSecret != ""
	switch {
	case cr.Password != "" && app:
		errs = append(errs, errors.New("give either Password or the API key values, not both"))
	case cr.Password == "" && !app:
		errs = append(errs, errors.New("a password or the API key values (AppKey, Secret, AccessToken, AccessTokenSecret) are required"))
	case app && (cr.AppKey == "" || cr.Secret == "" || cr.AccessToken == "" || cr.AccessTokenSecret == ""):
		errs = append(errs, errors.New("an application login needs all of AppKey, Secret, AccessToken, AccessTokenSecret"))
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
		v = struct {
			Username          string `json:"username"`
			AppKey            string `json:"appKey"`
			Secret            string `json:"secret"`
			AccessToken       string `json:"accessToken"`
			AccessTokenSecret string `json:"accessTokenSecret"`
		}{cr.Username, cr.AppKey, cr.Secret, cr.AccessToken, cr.AccessTokenSecret}
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

// secrets lists the secret values of cr (to keep out of error messages).
func (cr Credentials) secrets() []string {
	return []string{cr.Password, cr.AppKey, cr.Secret, cr.AccessToken, cr.AccessTokenSecret}
}

// kind names the login method for logs.
func (cr Credentials) kind() string {
	if cr.IsAppLogin() {
		return "app-key"
	}
	return "password"
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
