package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// natsCase is one way to authenticate: the config that must connect, and
// configs that must be refused, with the secrets none of them may show.
type natsCase struct {
	good    Config
	bad     map[string]Config
	secrets []string
	// refused tells the error of a refused connection from others.
	refused func(error) bool
}

// TestNATSAuth connects to an embedded nats-server set up for each auth
// option of the config: the right credentials connect, wrong ones fail at
// once (no waiting until the context ends) with the server's reason, and no
// secret appears in the error or the log.
func TestNATSAuth(t *testing.T) {
	t.Parallel()
	for name, setup := range map[string]func(t *testing.T) (*server.Server, natsCase){
		"user-password": userPasswordCase, "token": tokenCase, "nkey": nkeyCase,
		"creds-file": credsCase, "tls": tlsCase,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, c := setup(t)
			logs := &syncBuffer{}
			nc := connectWith(t, s.ClientURL(), c.good, logs)
			if err := nc.Flush(); err != nil {
				t.Fatalf("round trip with the right credentials: %v", err)
			}
			nc.Close()
			for what, cfg := range c.bad {
				err := connectErr(t, s.ClientURL(), cfg, logs)
				if !c.refused(err) {
					t.Errorf("%s: err = %v; want the server's refusal", what, err)
				}
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
					t.Errorf("%s: err = %v; want a refusal at once, not a wait for the context", what, err)
				}
				if !strings.Contains(err.Error(), "connect nats") {
					t.Errorf("%s: err = %v; want it to say what failed", what, err)
				}
				assertNoSecret(t, what+": error", err.Error(), c.secrets)
			}
			assertNoSecret(t, "log", logs.String(), c.secrets)
		})
	}
}

func isAuthError(err error) bool { return errors.Is(err, nats.ErrAuthorization) }

func userPasswordCase(t *testing.T) (*server.Server, natsCase) {
	const user, pw, wrong = "bridge", "pw-right-0f1e2d", "pw-wrong-3c4b5a"
	s := natstest.StartServer(t, noJetStream, func(o *server.Options) { o.Username, o.Password = user, pw })
	return s, natsCase{
		good: Config{NATSUser: user, NATSPassword: pw},
		bad: map[string]Config{
			"wrong password": {NATSUser: user, NATSPassword: wrong},
			"no credentials": {},
		},
		secrets: []string{pw, wrong}, refused: isAuthError,
	}
}

func tokenCase(t *testing.T) (*server.Server, natsCase) {
	const token, wrong = "tok-right-9a8b7c", "tok-wrong-6d5e4f"
	s := natstest.StartServer(t, noJetStream, func(o *server.Options) { o.Authorization = token })
	return s, natsCase{
		good:    Config{NATSToken: token},
		bad:     map[string]Config{"wrong token": {NATSToken: wrong}},
		secrets: []string{token, wrong}, refused: isAuthError,
	}
}

func nkeyCase(t *testing.T) (*server.Server, natsCase) {
	dir := t.TempDir()
	user, seed := newUserKey(t)
	_, wrongSeed := newUserKey(t)
	s := natstest.StartServer(t, noJetStream, func(o *server.Options) {
		o.Nkeys = []*server.NkeyUser{{Nkey: user}}
	})
	return s, natsCase{
		good:    Config{NATSNKeyFile: writeFile(t, dir, "user.nk", seed)},
		bad:     map[string]Config{"unknown nkey": {NATSNKeyFile: writeFile(t, dir, "other.nk", wrongSeed)}},
		secrets: []string{string(seed), string(wrongSeed)}, refused: isAuthError,
	}
}

// credsCase runs the server in operator (JWT) mode with a memory account
// resolver; the good user belongs to a known account, the bad one to an
// account the server does not know.
func credsCase(t *testing.T) (*server.Server, natsCase) {
	dir := t.TempDir()
	op := must(nkeys.CreateOperator())
	opPub := must(op.PublicKey())
	opJWT := must(jwt.NewOperatorClaims(opPub).Encode(op))
	opClaims := must(jwt.DecodeOperatorClaims(opJWT))
	acct := must(nkeys.CreateAccount())
	acctPub := must(acct.PublicKey())
	resolver := &server.MemAccResolver{}
	if err := resolver.Store(acctPub, must(jwt.NewAccountClaims(acctPub).Encode(op))); err != nil {
		t.Fatal(err)
	}
	stranger := must(nkeys.CreateAccount())
	s := natstest.StartServer(t, noJetStream, func(o *server.Options) {
		o.TrustedOperators = []*jwt.OperatorClaims{opClaims}
		o.AccountResolver = resolver
	})
	good, goodSeed := userCreds(t, acct)
	bad, badSeed := userCreds(t, stranger)
	return s, natsCase{
		good:    Config{NATSCredsFile: writeFile(t, dir, "good.creds", good)},
		bad:     map[string]Config{"user of an unknown account": {NATSCredsFile: writeFile(t, dir, "bad.creds", bad)}},
		secrets: []string{goodSeed, badSeed}, refused: isAuthError,
	}
}

// userCreds returns a creds file of a new user of account, and its seed.
func userCreds(t *testing.T, account nkeys.KeyPair) ([]byte, string) {
	t.Helper()
	pub, seed := newUserKey(t)
	userJWT := must(jwt.NewUserClaims(pub).Encode(account))
	return must(jwt.FormatUserConfig(userJWT, seed)), string(seed)
}

// tlsCase runs the server with TLS, verifying client certificates against
// its CA; the refusals are a client without a certificate, one with a
// certificate of another CA, and one that does not trust the server's CA.
func tlsCase(t *testing.T) (*server.Server, natsCase) {
	dir := t.TempDir()
	ca, rogue := newCA(t, "lpbridge test CA"), newCA(t, "rogue CA")
	srvCert := ca.issue(t, "nats-server", x509.ExtKeyUsageServerAuth)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	s := natstest.StartServer(t, noJetStream, func(o *server.Options) {
		o.TLSConfig = &tls.Config{
			MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{srvCert.tls(t)},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
		}
		o.TLSVerify = true
		o.TLSTimeout = 10 // seconds; the race detector makes handshakes slow
	})
	client := ca.issue(t, "lpbridge", x509.ExtKeyUsageClientAuth)
	stray := rogue.issue(t, "lpbridge", x509.ExtKeyUsageClientAuth)
	caFile, rogueCAFile := writeFile(t, dir, "ca.pem", ca.certPEM), writeFile(t, dir, "rogue-ca.pem", rogue.certPEM)
	certFile, keyFile := writeFile(t, dir, "client.pem", client.certPEM), writeFile(t, dir, "client-key.pem", client.keyPEM)
	strayCert, strayKey := writeFile(t, dir, "stray.pem", stray.certPEM), writeFile(t, dir, "stray-key.pem", stray.keyPEM)
	return s, natsCase{
		good: Config{NATSCAFile: caFile, NATSCertFile: certFile, NATSKeyFile: keyFile},
		bad: map[string]Config{
			"no client certificate":            {NATSCAFile: caFile},
			"client certificate of another CA": {NATSCAFile: caFile, NATSCertFile: strayCert, NATSKeyFile: strayKey},
			"server CA not trusted":            {NATSCAFile: rogueCAFile, NATSCertFile: certFile, NATSKeyFile: keyFile},
		},
		secrets: []string{pemBody(client.keyPEM), pemBody(stray.keyPEM)},
		refused: func(err error) bool {
			var verify *tls.CertificateVerificationError
			return errors.As(err, &verify) || (err != nil && strings.Contains(err.Error(), "tls:"))
		},
	}
}

// TestNATSOptionsRejectBadFiles checks that bad auth and TLS settings fail
// before connecting, naming the variable and never showing the contents.
func TestNATSOptionsRejectBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, seed := newUserKey(t)
	const garbage = "SUACRETGARBAGEsecret-9f8e7d"
	seedOnly := writeFile(t, dir, "seed-only.creds", seed)
	junk := writeFile(t, dir, "junk", []byte(garbage+"\n"))
	for name, tc := range map[string]struct {
		cfg  Config
		want string
	}{
		"missing nkey file":           {Config{NATSNKeyFile: filepath.Join(dir, "absent.nk")}, "BRIDGE_NATS_NKEY_FILE"},
		"nkey file of junk":           {Config{NATSNKeyFile: junk}, "BRIDGE_NATS_NKEY_FILE"},
		"creds file without a JWT":    {Config{NATSCredsFile: seedOnly}, "BRIDGE_NATS_CREDS_FILE"},
		"creds file of junk":          {Config{NATSCredsFile: junk}, "BRIDGE_NATS_CREDS_FILE"},
		"missing creds file":          {Config{NATSCredsFile: filepath.Join(dir, "absent.creds")}, "BRIDGE_NATS_CREDS_FILE"},
		"CA file of junk":             {Config{NATSCAFile: junk}, "BRIDGE_NATS_CA_FILE"},
		"certificate without key":     {Config{NATSCertFile: junk}, "BRIDGE_NATS_KEY_FILE"},
		"certificate and key of junk": {Config{NATSCertFile: junk, NATSKeyFile: junk}, "BRIDGE_NATS_CERT_FILE"},
		"password without user":       {Config{NATSPassword: garbage}, "BRIDGE_NATS_USER"},
	} {
		_, err := natsOptions(tc.cfg, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want one naming %s", name, err, tc.want)
			continue
		}
		assertNoSecret(t, name, err.Error(), []string{garbage, string(seed)})
	}
}

// TestNATSReconnectsAfterServerRestart restarts the server on the same port:
// the bridge's connection comes back by itself, with its subscriptions.
func TestNATSReconnectsAfterServerRestart(t *testing.T) {
	t.Parallel()
	first := natstest.StartServer(t, noJetStream)
	port := first.Addr().(*net.TCPAddr).Port
	logs := &syncBuffer{}
	nc := connectWith(t, first.ClientURL(), Config{}, logs)
	t.Cleanup(nc.Close)
	sub, err := nc.Subscribe("ping", func(m *nats.Msg) { _ = m.Respond([]byte("pong")) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	first.Shutdown()
	first.WaitForShutdown()
	testwait.Until(t, e2eWait, func() error {
		if nc.IsConnected() {
			return errors.New("still connected to the stopped server")
		}
		return nil
	})
	second := natstest.StartServer(t, noJetStream, func(o *server.Options) { o.Port = port })
	testwait.Until(t, e2eWait, func() error {
		if !nc.IsConnected() {
			return fmt.Errorf("not reconnected yet: %s", nc.Status())
		}
		return nil
	})
	client, _ := natstest.Connect(t, second)
	reply, err := client.Request("ping", nil, e2eWait)
	if err != nil || string(reply.Data) != "pong" {
		t.Fatalf("request through the restarted server = %v, %v; want pong from the resubscribed bridge", reply, err)
	}
	if n := nc.Stats().Reconnects; n < 1 {
		t.Errorf("Reconnects = %d; want at least 1", n)
	}
	if !strings.Contains(logs.String(), "nats reconnected") {
		t.Errorf("no reconnect logged:\n%s", logs)
	}
}

// TestConnectNATSClusterURLs: BRIDGE_NATS_URL lists the nodes of a NATS
// cluster. With all but one of them down the bridge connects to that one;
// when it goes too (the others back) the bridge reconnects to another node
// and its subscriptions answer there.
func TestConnectNATSClusterURLs(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	c.Shutdown(0)
	c.Shutdown(1)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	opts, err := natsOptions(Config{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	nc, err := connectNATS(ctx, c.URLs(), opts, logger)
	if err != nil {
		t.Fatalf("connectNATS %s with one node up: %v", c.URLs(), err)
	}
	t.Cleanup(nc.Close)
	only := c.Server(2).ClientURL()
	if nc.ConnectedUrl() != only {
		t.Errorf("connected to %s; want the only node up, %s", nc.ConnectedUrl(), only)
	}
	sub, err := nc.Subscribe("ping", func(m *nats.Msg) { _ = m.Respond([]byte("pong")) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	c.Restart(0)
	c.Restart(1)
	c.Shutdown(2)
	testwait.Until(t, e2eWait, func() error {
		if !nc.IsConnected() || nc.ConnectedUrl() == only {
			return fmt.Errorf("not reconnected to another node yet: %s %s", nc.Status(), nc.ConnectedUrl())
		}
		return nil
	})
	client, _ := c.Connect(t)
	testwait.Until(t, e2eWait, func() error {
		reply, err := client.Request("ping", nil, time.Second)
		if err != nil {
			return fmt.Errorf("request through another node: %w", err)
		}
		if string(reply.Data) != "pong" {
			return fmt.Errorf("request through another node = %q; want pong", reply.Data)
		}
		return nil
	})
	if !strings.Contains(logs.String(), "nats reconnected") {
		t.Errorf("no reconnect logged:\n%s", logs)
	}
}

// TestConnectNATSWaitsForServer starts the bridge's connect before the
// server exists: it keeps trying and connects once the server is up.
func TestConnectNATSWaitsForServer(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	logs := &syncBuffer{}
	opts, err := natsOptions(Config{}, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	type result struct {
		nc  *nats.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		nc, err := connectNATS(t.Context(), url, opts, slog.New(slog.NewTextHandler(logs, nil)))
		done <- result{nc, err}
	}()
	testwait.Until(t, e2eWait, func() error {
		if !strings.Contains(logs.String(), "nats not reachable; retrying") {
			return errors.New("no failed attempt logged yet")
		}
		return nil
	})
	natstest.StartServer(t, noJetStream, func(o *server.Options) { o.Port = port })
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("connectNATS: %v", r.err)
		}
		t.Cleanup(r.nc.Close)
		if err := r.nc.Flush(); err != nil {
			t.Errorf("round trip: %v", err)
		}
	case <-time.After(e2eWait):
		t.Fatalf("connectNATS did not connect within %s of the server starting", e2eWait)
	}
}

// TestConnectNATSStopsWithContext: while no server answers, cancelling the
// context ends the wait with an error naming both causes.
func TestConnectNATSStopsWithContext(t *testing.T) {
	t.Parallel()
	url := fmt.Sprintf("nats://bridge:pw-in-url-5e6f@127.0.0.1:%d", freePort(t))
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	opts, err := natsOptions(Config{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		nc, err := connectNATS(ctx, url, opts, logger)
		if nc != nil {
			nc.Close()
		}
		done <- err
	}()
	testwait.Until(t, e2eWait, func() error {
		if !strings.Contains(logs.String(), "nats not reachable; retrying") {
			return errors.New("no failed attempt logged yet")
		}
		return nil
	})
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) || !errors.Is(err, nats.ErrNoServers) {
		t.Errorf("err = %v; want context.Canceled and nats.ErrNoServers", err)
	}
	assertNoSecret(t, "error", err.Error(), []string{"pw-in-url-5e6f"})
	assertNoSecret(t, "log", logs.String(), []string{"pw-in-url-5e6f"})
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                       "nats://127.0.0.1:4222",
		"nats://user:secret@nats:4222":                "nats://redacted@nats:4222",
		"tls://s3cr3t-token@a:4222,nats://u:p@b:4222": "tls://redacted@a:4222,nats://redacted@b:4222",
		"user:secret@nats:4222":                       "redacted@nats:4222",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q; want %q", in, got, want)
		}
	}
}

// connectWith connects to url as the bridge would with cfg, logging to logs.
func connectWith(t *testing.T, url string, cfg Config, logs *syncBuffer) *nats.Conn {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(logs, nil))
	opts, err := natsOptions(cfg, logger)
	if err != nil {
		t.Fatalf("natsOptions: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	nc, err := connectNATS(ctx, url, opts, logger)
	if err != nil {
		t.Fatalf("connectNATS with the right credentials: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// connectErr connects with cfg, which must fail, and returns the error.
func connectErr(t *testing.T, url string, cfg Config, logs *syncBuffer) error {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(logs, nil))
	opts, err := natsOptions(cfg, logger)
	if err != nil {
		t.Fatalf("natsOptions: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	nc, err := connectNATS(ctx, url, opts, logger)
	if err == nil {
		nc.Close()
		t.Fatalf("connectNATS with %+v succeeded; want it refused", cfg)
	}
	return err
}

func assertNoSecret(t *testing.T, where, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s shows a secret (%.6s…)", where, s)
		}
	}
}

func noJetStream(o *server.Options) { o.JetStream = false }

// freePort returns a loopback port that nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func newUserKey(t *testing.T) (pub string, seed []byte) {
	t.Helper()
	kp := must(nkeys.CreateUser())
	return must(kp.PublicKey()), must(kp.Seed())
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// must returns v, panicking on err: for key and certificate generation,
// which fails only with a bug in the test (the panic fails it).
func must[V any](v V, err error) V {
	if err != nil {
		panic(err)
	}
	return v
}

// testCA is a certificate authority made for one test.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

// issued is a certificate and key in PEM.
type issued struct{ certPEM, keyPEM []byte }

func (i issued) tls(t *testing.T) tls.Certificate {
	t.Helper()
	return must(tls.X509KeyPair(i.certPEM, i.keyPEM))
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key))
	return &testCA{cert: must(x509.ParseCertificate(der)), key: key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a certificate for 127.0.0.1 with the given usage.
func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) issued {
	t.Helper()
	key := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	tmpl := &x509.Certificate{
		SerialNumber: must(rand.Int(rand.Reader, big.NewInt(1<<62))), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key))
	keyDER := must(x509.MarshalPKCS8PrivateKey(key))
	return issued{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// pemBody is the first line of a PEM block's base64 body: enough of the
// secret to spot it.
func pemBody(p []byte) string {
	return strings.Split(string(p), "\n")[1]
}
