package lpchat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// agentVepService is the Domain API service name of the Chat Agent and Login
// Service APIs (case-sensitive, chat-agent-api.md §3).
const agentVepService = "agentVep"

// hostPattern accepts host[:port] with a DNS name, IPv4 or bracketed IPv6.
var hostPattern = regexp.MustCompile(`^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$`)

// LookupDomain asks the Domain API for the agentVep host (the baseURI, e.g.
// "va.agentvep.liveperson.net") and caches it on the client. Later calls
// return the cached host without a request.
func (c *Client) LookupDomain(ctx context.Context) (string, error) {
	const op = "domain lookup"
	c.mu.RLock()
	host := c.host
	c.mu.RUnlock()
	if host != "" {
		return host, nil
	}
	u := c.domainRoot + "/api/account/" + url.PathEscape(c.cfg.Account) +
		"/service/" + agentVepService + "/baseURI.json?version=1.0"
	res, err := c.send(ctx, call{name: OpDomain, op: op, method: http.MethodGet, url: u})
	if err != nil {
		return "", err
	}
	var doc struct {
		Service flexString `json:"service"`
		BaseURI flexString `json:"baseURI"`
	}
	if err := json.Unmarshal(res.body, &doc); err != nil {
		return "", protocolError(op, "decode", err)
	}
	if doc.Service != "" && string(doc.Service) != agentVepService {
		return "", protocolError(op, "answer for service "+string(doc.Service), nil)
	}
	host, err = parseHost(string(doc.BaseURI))
	if err != nil {
		return "", protocolError(op, "baseURI", err)
	}
	scheme := "https"
	if c.cfg.AllowInsecureHTTP {
		if du, err := url.Parse(c.cfg.DomainURL); err == nil {
			scheme = du.Scheme
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.host == "" { // a concurrent lookup may have won; keep its answer
		c.host = host
		c.base = scheme + "://" + host + "/api/account/" + url.PathEscape(c.cfg.Account)
	}
	c.log.Debug("domain lookup", "host", c.host)
	return c.host, nil
}

// parseHost validates a baseURI: a bare host[:port]. A value given as a URL
// ("https://host/") is reduced to its host.
func parseHost(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("missing")
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return "", errors.New("not a host")
		}
		s = u.Host
	}
	if !hostPattern.MatchString(s) {
		return "", errors.New("not a host")
	}
	return s, nil
}
