package lpsim

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // OAuth 1.0 HMAC-SHA1 is what the API specifies (§11)
	"encoding/base64"
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// verifyOAuth checks an OAuth 1.0 HMAC-SHA1 signed request (§11) and returns
// the agent whose API key signed it. The timestamp must be a number but is
// not compared with the clock, and nonces are not remembered: the simulator
// checks signatures, not replays.
func verifyOAuth(a *account, c *call) (*agent, error) {
	params, err := parseOAuthHeader(c.r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	if params["oauth_signature_method"] != "HMAC-SHA1" {
		return nil, errors.New("oauth_signature_method must be HMAC-SHA1")
	}
	if v, ok := params["oauth_version"]; ok && v != "1.0" {
		return nil, errors.New("oauth_version must be 1.0")
	}
	if _, err := strconv.ParseInt(params["oauth_timestamp"], 10, 64); err != nil {
		return nil, errors.New("oauth_timestamp must be a number")
	}
	if params["oauth_nonce"] == "" {
		return nil, errors.New("oauth_nonce is required")
	}
	ag := a.byAppKey[params["oauth_consumer_key"]] // app keys are unique in an account
	if ag == nil || ag.spec.AccessToken != params["oauth_token"] {
		return nil, errors.New("unknown consumer key or token")
	}
	want := oauthSignature(c, params, ag.spec.Secret, ag.spec.AccessTokenSecret)
	if !hmac.Equal([]byte(want), []byte(params["oauth_signature"])) {
		return nil, errors.New("signature does not match")
	}
	return ag, nil
}

// parseOAuthHeader reads `OAuth k="v", ...` into decoded values.
func parseOAuthHeader(h string) (map[string]string, error) {
	_, rest, _ := strings.Cut(h, " ")
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			continue
		}
		v, err := url.PathUnescape(strings.Trim(v, `"`))
		if err != nil {
			return nil, errors.New("malformed OAuth header")
		}
		params[k] = v
	}
	for _, k := range []string{"oauth_consumer_key", "oauth_token", "oauth_signature", "oauth_signature_method"} {
		if params[k] == "" {
			return nil, errors.New(k + " is required")
		}
	}
	return params, nil
}

// oauthSignature computes the HMAC-SHA1 signature of the request (OAuth 1.0
// §9): the real HTTP method, the base URL the client used and the sorted
// query and oauth parameters (JSON bodies are not signed).
func oauthSignature(c *call, oauth map[string]string, consumerSecret, tokenSecret string) string {
	var pairs []string
	for k, vs := range c.r.URL.Query() {
		for _, v := range vs {
			pairs = append(pairs, oauthEscape(k)+"="+oauthEscape(v))
		}
	}
	for k, v := range oauth {
		if k != "oauth_signature" && k != "realm" {
			pairs = append(pairs, oauthEscape(k)+"="+oauthEscape(v))
		}
	}
	sort.Strings(pairs)
	origin := strings.ToLower(c.base)
	origin = strings.TrimSuffix(strings.TrimSuffix(origin, ":80"), ":443") // default ports are not signed
	base := strings.ToUpper(c.r.Method) + "&" + oauthEscape(origin+c.r.URL.EscapedPath()) +
		"&" + oauthEscape(strings.Join(pairs, "&"))
	mac := hmac.New(sha1.New, []byte(oauthEscape(consumerSecret)+"&"+oauthEscape(tokenSecret)))
	mac.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// oauthEscape percent-encodes everything but RFC 3986 unreserved characters.
func oauthEscape(s string) string {
	var b strings.Builder
	for i := range len(s) {
		ch := s[i]
		if ('A' <= ch && ch <= 'Z') || ('a' <= ch && ch <= 'z') || ('0' <= ch && ch <= '9') ||
			ch == '-' || ch == '.' || ch == '_' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(ch)>>4, 16)+strconv.FormatUint(uint64(ch)&15, 16)))
	}
	return b.String()
}
