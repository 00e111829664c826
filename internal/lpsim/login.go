package lpsim

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"
)

// sessionCookie is the Login Service's cookie (§4.3).
const sessionCookie = "Session_id"

// loginError answers with the Login Service error shape (§4.4, §12).
func loginError(now time.Time, status, code int, msg string) reply {
	return codeReply(now, status, code, msg)
}

type loginRequest struct {
	Username          string `json:"username"`
	Password          string `json:"password"`
	AppKey            string `json:"appKey"`
	Secret            string `json:"secret"`
	AccessToken       string `json:"accessToken"`
	AccessTokenSecret string `json:"accessTokenSecret"`
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// credentialsMatch checks a user login (password) or an application login
// (an OAuth2 app with "dummy" tokens, or the four API-key values) against
// the agent's spec.
func (ag *agent) credentialsMatch(req loginRequest) bool {
	sp := ag.spec
	if req.Password != "" {
		return sp.Password != "" && eq(req.Password, sp.Password)
	}
	if req.AppKey != "" {
		return sp.oauth2Match(req) || (sp.AppKey != "" && eq(req.AppKey, sp.AppKey) && eq(req.Secret, sp.Secret) &&
			eq(req.AccessToken, sp.AccessToken) && eq(req.AccessTokenSecret, sp.AccessTokenSecret))
	}
	return false
}

// loginResponse is the body of §4.3.
type loginResponse struct {
	CSRF                   string         `json:"csrf"`
	WSUK                   string         `json:"wsuk"`
	Config                 loginConfig    `json:"config"`
	CSDSCollectionResponse map[string]any `json:"csdsCollectionResponse"`
	AccountData            map[string]any `json:"accountData"`
	SessionTTL             string         `json:"sessionTTl"`
	Bearer                 string         `json:"bearer"`
	SessionID              string         `json:"sessionId"`
}

type loginConfig struct {
	LoginName          string `json:"loginName"`
	UserID             string `json:"userId"`
	UserPrivileges     []int  `json:"userPrivileges"`
	ServerCurrentTime  int64  `json:"serverCurrentTime"`
	TimeDiff           int64  `json:"timeDiff"`
	ServerTimeZoneName string `json:"serverTimeZoneName"`
	ServerTimeGMTDiff  int64  `json:"serverTimeGMTDiff"`
	IsLPA              bool   `json:"isLPA"`
	IsAdmin            bool   `json:"isAdmin"`
	AccountTimeZoneID  string `json:"accountTimeZoneId"`
	UserPID            string `json:"userPid"`
}

// login answers POST {base}/login (§4.1, §4.2) for any v (1.1–1.3 or none).
func (s *Simulator) login(a *account, c *call) reply {
	if c.method != http.MethodPost {
		return c.methodNotAllowed(http.MethodPost)
	}
	var req loginRequest
	if rep := c.decode(&req, false); rep != nil {
		return *rep
	}
	if req.Username == "" {
		return loginError(c.now, http.StatusBadRequest, http.StatusBadRequest, "username is required")
	}
	ag := a.agentByLogin(req.Username)
	if ag == nil || !ag.credentialsMatch(req) {
		return s.authFailure(loginError(c.now, http.StatusUnauthorized, http.StatusUnauthorized,
			"Authentication failed: bad user name or credentials"), problemTokenRejected)
	}
	ls := &loginSession{
		id: secretHex(16), bearer: secretHex(32), csrf: secretHex(32), agent: ag, refreshed: c.now,
	}
	a.logins[ls.bearer] = ls
	a.cookies[ls.id] = ls
	earlier(&a.loginDue, c.now.Add(s.cfg.LoginTTL))
	s.log.Debug("lpsim: login", "account", a.id, "agent", ag.login)
	_, offset := c.now.Zone()
	body := loginResponse{
		CSRF: ls.csrf,
		WSUK: secretHex(8)[:10],
		Config: loginConfig{
			LoginName: ag.login, UserID: ag.id, UserPrivileges: []int{100, 101, 1730},
			ServerCurrentTime: c.now.UnixMilli(), TimeDiff: 0,
			ServerTimeZoneName: c.now.Location().String(), ServerTimeGMTDiff: int64(offset) * 1000,
			AccountTimeZoneID: c.now.Location().String(), UserPID: ag.id,
		},
		CSDSCollectionResponse: map[string]any{"baseURIs": baseURIs(a.id, c.r.Host)},
		AccountData: map[string]any{"agentGroupsData": map[string]any{
			"items":    []map[string]any{{"id": -1, "deleted": false, "name": "Main Group"}},
			"revision": 1,
		}},
		SessionTTL: strconv.FormatInt(s.cfg.LoginTTL.Milliseconds(), 10),
		Bearer:     ls.bearer,
		SessionID:  ls.id,
	}
	rep := answer(http.StatusOK, body)
	rep.cookies = []*http.Cookie{{Name: sessionCookie, Value: ls.id, Path: "/", HttpOnly: true}}
	return rep
}

// loginByCSRF finds the live login of the Session_id cookie and checks the
// csrf of the body (refresh and logout, §4.4, §4.5).
func (s *Simulator) loginByCSRF(a *account, c *call) (*loginSession, *reply) {
	if c.method != http.MethodPost {
		rep := c.methodNotAllowed(http.MethodPost)
		return nil, &rep
	}
	var body struct {
		CSRF string `json:"csrf"`
	}
	if rep := c.decode(&body, false); rep != nil {
		return nil, rep
	}
	var ls *loginSession
	if ck, err := c.r.Cookie(sessionCookie); err == nil {
		ls = a.cookies[ck.Value]
	}
	if ls == nil {
		rep := loginError(c.now, http.StatusUnauthorized, http.StatusUnauthorized,
			"Session invalid! The Session_id cookie is missing, unknown or expired")
		return nil, &rep
	}
	if !eq(body.CSRF, ls.csrf) {
		rep := loginError(c.now, http.StatusUnauthorized, codeBadCSRF,
			"CSRF token invalid! The CSRF token on request does not match the CSRF token on the session")
		return nil, &rep
	}
	return ls, nil
}

// refresh answers POST {base}/refresh: the login lives another LoginTTL.
func (s *Simulator) refresh(a *account, c *call) reply {
	ls, rep := s.loginByCSRF(a, c)
	if rep != nil {
		return *rep
	}
	s.extendLogin(a, ls, c.now)
	return reply{status: http.StatusOK}
}

// logout answers POST {base}/logout: the bearer dies and so do the agent
// sessions created with it.
func (s *Simulator) logout(a *account, c *call) reply {
	ls, rep := s.loginByCSRF(a, c)
	if rep != nil {
		return *rep
	}
	s.endLogin(a, ls, c.now, true)
	s.route(a, c.now)
	return reply{status: http.StatusOK, cookies: []*http.Cookie{{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1}}}
}

// endLogin forgets a login (its bearer gets 401); on logout its agent
// sessions end too.
func (s *Simulator) endLogin(a *account, ls *loginSession, now time.Time, logout bool) {
	delete(a.logins, ls.bearer)
	delete(a.cookies, ls.id)
	if logout {
		for _, as := range ls.sessions {
			s.endSession(a, as, now, "logout")
		}
	}
}
