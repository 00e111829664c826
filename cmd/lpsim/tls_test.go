package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "lpsim test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestRunHTTPSWithCountedAgents(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	base, out, stop := startRun(t, "-agents-count", "12", "-tls-cert", certFile, "-tls-key", keyFile, "-log-level", "warn")
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("listening on %s, want https", base)
	}
	if !strings.Contains(out.String(), "bot.0001, bot.0002, bot.0003, bot.0004, ... bot.0012 (12)") {
		t.Fatalf("banner does not shorten the agents: %s", out.String())
	}
	w := &walker{t: t, hc: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}}
	host := get(t, w.do("GET", base+"/api/account/55500011/service/agentVep/baseURI.json?version=1.0", ""), "baseURI")
	if "https://"+host != base {
		t.Fatalf("baseURI %q for %q", host, base)
	}
	get(t, w.do("POST", base+"/api/account/55500011/login?v=1.3", `{"username":"bot.0012","password":"demo-password"}`), "bearer")
	view := w.do("GET", base+"/sim/accounts/55500011", "")
	var agents []struct {
		LoginName string `json:"loginName"`
	}
	if err := json.Unmarshal(mustJSON(t, view["agents"]), &agents); err != nil {
		t.Fatal(err)
	}
	if len(agents) != 12 || agents[0].LoginName != "bot.0001" || agents[11].LoginName != "bot.0012" {
		t.Fatalf("agents %+v, want bot.0001 ... bot.0012", agents)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestCountedAgentsWidth(t *testing.T) {
	if got := countedAgents(12345); got[0] != "bot.00001" || got[12344] != "bot.12345" {
		t.Fatalf("countedAgents(12345) = %s ... %s", got[0], got[12344])
	}
}
