package lpsim

import (
	"fmt"
	"net/http"
)

// oauth2Token is what an OAuth2 client-credentials app sends as accessToken
// and accessTokenSecret on login: LivePerson's application-login page asks
// for this literal (chat-agent-api.md §4.2).
const oauth2Token = "dummy"

// The plain-text answers of the real service to a rejected token or
// signature (§4.2, seen in public issue threads), for PlainTextAuthErrors.
const (
	problemTokenRejected  = "oauth_problem=token_rejected&oauth_problem_advice=the oauth_token is unacceptable to the Service Provider"
	problemSignatureWrong = "oauth_problem=signature_invalid&oauth_problem_advice=the oauth_signature is invalid"
)

// plainText is a reply body written as text/plain, not JSON.
type plainText string

// write sends the text with status; headers and cookies are set already.
func (p plainText) write(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(p))
}

// authFailure answers a 401 of the login or of the Authorization check:
// the Login Service's JSON error, or with PlainTextAuthErrors the real
// service's form-encoded text.
func (s *Simulator) authFailure(rep reply, problem string) reply {
	if s.cfg.PlainTextAuthErrors {
		rep.body = plainText(problem)
	}
	return rep
}

// oauth2Match checks an OAuth2 app's login: the app's client id in appKey,
// its client secret in secret, and "dummy" in both token fields.
func (sp AgentSpec) oauth2Match(req loginRequest) bool {
	return sp.ClientID != "" && eq(req.AppKey, sp.ClientID) && eq(req.Secret, sp.ClientSecret) &&
		req.AccessToken == oauth2Token && req.AccessTokenSecret == oauth2Token
}

// validateOAuth2 checks the OAuth2 app of a spec: both values or neither,
// and a client id that no other agent's app or API key in the account uses
// (a login's appKey names one app).
func validateOAuth2(a *account, sp AgentSpec) error {
	if (sp.ClientID == "") != (sp.ClientSecret == "") {
		return fmt.Errorf("an OAuth2 app needs clientId and clientSecret: %w", ErrInvalidSpec)
	}
	if sp.ClientID != "" && (a.clientIDs[sp.ClientID] || a.byAppKey[sp.ClientID] != nil) {
		return fmt.Errorf("client id already used: %w", ErrAgentExists)
	}
	if sp.AppKey != "" && a.clientIDs[sp.AppKey] {
		return fmt.Errorf("app key already used as a client id: %w", ErrAgentExists)
	}
	return nil
}
