package lpchat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// loginVersion is the Login Service API version the docs give as default (§4.1).
const loginVersion = "1.3"

// Login logs the agent in (user login with a password, or application login
// with an OAuth2 app or an old OAuth1 API key, chat-agent-api.md §4; see
// OAuth2App) and keeps the bearer and csrf inside the client for later
// calls. It does the domain lookup first if needed. The server's cookies
// (Session_id, ...) go to the client's jar.
//
// Errors: ErrInvalidConfig for unusable credentials, ErrAuth on 401 (bad
// credentials; APIError.Message holds the service's text, JSON or a plain
// "oauth_problem=...", redacted), ErrBlocked on 451, ErrRateLimited after
// the 429 retries (waiting at least RetryPolicy.LoginMinRetryAfter).
func (c *Client) Login(ctx context.Context, cr Credentials) (*LoginSession, error) {
	const op = "login"
	body, err := cr.loginBody()
	if err != nil {
		return nil, err
	}
	base, err := c.baseURL(ctx)
	if err != nil {
		return nil, err
	}
	if cr.kind() == methodOAuth1 {
		c.log.Warn("OAuth1 API-key login reached end of life on 2026-04-30; log bots in with an OAuth2 app (client id and secret)",
			"login", cr.Username)
	}
	res, err := c.send(ctx, call{
		name: OpLogin, op: op, method: http.MethodPost, url: base + "/login?v=" + loginVersion, body: body,
		kind: callKind{login: true}, secrets: cr.secrets(),
	})
	if err != nil {
		return nil, err
	}
	ls, err := decodeLogin(res.body)
	if err != nil {
		return nil, protocolError(op, "decode", err)
	}
	c.setTokens(ls.Bearer, ls.CSRF)
	c.log.Info("logged in", "login", ls.LoginName, "user_id", ls.UserID, "ttl", ls.TTL, "method", cr.kind())
	return ls, nil
}

// Refresh keeps the login session alive (§4.4: every 3-5 minutes). It sends
// the csrf and the jar's Session_id cookie. ErrAuth means the session is
// gone (also when the client never logged in): log in again.
func (c *Client) Refresh(ctx context.Context) error {
	return c.loginSessionCall(ctx, OpRefresh, "refresh", "/refresh")
}

// Logout ends the login session (§4.5) and forgets the bearer and csrf, also
// when the service answers 401 (the session was gone already).
func (c *Client) Logout(ctx context.Context) error {
	err := c.loginSessionCall(ctx, OpLogout, "logout", "/logout")
	if err == nil || isStatus(err, http.StatusUnauthorized) {
		c.setTokens("", "")
	}
	return err
}

// loginSessionCall POSTs {"csrf": ...} to a Login Service path (§4.4, §4.5).
// The docs give these paths without a version parameter.
func (c *Client) loginSessionCall(ctx context.Context, name Operation, op, path string) error {
	_, csrf := c.tokens()
	if csrf == "" {
		return opError(op, ErrAuth, errNotLoggedIn)
	}
	base, err := c.baseURL(ctx)
	if err != nil {
		return err
	}
	body, err := json.Marshal(struct {
		CSRF string `json:"csrf"`
	}{csrf})
	if err != nil {
		return opError(op, ErrBadRequest, err)
	}
	_, err = c.send(ctx, call{name: name, op: op, method: http.MethodPost, url: base + path, body: body})
	return err
}

// isStatus reports whether err is an *APIError with the given status.
func isStatus(err error, status int) bool {
	e, ok := asAPIError(err)
	return ok && e.Status == status
}

// wireLogin is the login response (§4.3).
type wireLogin struct {
	CSRF       string  `json:"csrf"`
	Bearer     string  `json:"bearer"`
	SessionTTL flexInt `json:"sessionTTl"`
	Config     struct {
		LoginName         string     `json:"loginName"`
		UserID            flexString `json:"userId"`
		ServerCurrentTime flexTime   `json:"serverCurrentTime"`
	} `json:"config"`
	CSDS struct {
		BaseURIs oneOrMany[struct {
			Service flexString `json:"service"`
			BaseURI flexString `json:"baseURI"`
		}] `json:"baseURIs"`
	} `json:"csdsCollectionResponse"`
}

// decodeLogin decodes a login response; bearer and csrf are required.
func decodeLogin(b []byte) (*LoginSession, error) {
	var w wireLogin
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	if w.Bearer == "" || w.CSRF == "" {
		return nil, fmt.Errorf("bearer or csrf missing")
	}
	ls := &LoginSession{
		Bearer:     w.Bearer,
		CSRF:       w.CSRF,
		TTL:        time.Duration(w.SessionTTL) * time.Millisecond,
		UserID:     string(w.Config.UserID),
		LoginName:  w.Config.LoginName,
		ServerTime: time.Time(w.Config.ServerCurrentTime),
	}
	if n := len(w.CSDS.BaseURIs); n > 0 {
		ls.BaseURIs = make(map[string]string, n)
		for _, b := range w.CSDS.BaseURIs {
			if b.Service != "" {
				ls.BaseURIs[string(b.Service)] = string(b.BaseURI)
			}
		}
	}
	return ls, nil
}

// maxErrorText bounds the text kept of an error answer's message: enough
// for "oauth_problem=...&oauth_problem_advice=..." (§4.2), not a whole HTML
// error page.
const maxErrorText = 300

// plainErrorText is the message of an error answer that is not JSON, such
// as the Login Service's "oauth_problem=token_rejected&..." on a 401
// (§4.2): its text on one line, "" for JSON without the error shape.
func plainErrorText(b []byte) string {
	if json.Valid(b) {
		return "" // JSON without the error shape: nothing for humans
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// cutErrorText cuts an error message, already redacted, to maxErrorText
// bytes, on a space or "&" so that no value is kept in part.
func cutErrorText(msg string) string {
	if len(msg) <= maxErrorText {
		return msg
	}
	cut := msg[:maxErrorText]
	if i := strings.LastIndexAny(cut, " &"); i > 0 {
		cut = cut[:i]
	}
	return strings.ToValidUTF8(cut, "") + "..."
}
