package lpchat_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// A certificate the client does not trust fails at once with
// ErrCertificate: no retry can change it. Trusting the server's CA works.
func TestUntrustedCertificateIsFinal(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"baseURI":"` + r.Host + `"}`))
	}))
	t.Cleanup(srv.Close)
	retry := lpchat.RetryPolicy{ServerBackoff: []time.Duration{time.Millisecond, time.Millisecond}}

	c, err := lpchat.New(lpchat.Config{DomainURL: srv.URL, Account: testAccount, Retry: retry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.LookupDomain(testCtx(t))
	var ae *lpchat.APIError
	if !errors.Is(err, lpchat.ErrCertificate) || errors.Is(err, lpchat.ErrServer) || !errors.As(err, &ae) || ae.Attempts != 1 {
		t.Fatalf("err = %v (attempts %d), want ErrCertificate after one attempt", err, ae.Attempts)
	}
	if hits.Load() != 0 {
		t.Errorf("the handler saw %d requests through an untrusted handshake", hits.Load())
	}

	trusted, err := lpchat.New(lpchat.Config{DomainURL: srv.URL, Account: testAccount, Retry: retry, Transport: srv.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trusted.LookupDomain(testCtx(t)); err != nil {
		t.Fatalf("with the server's CA trusted: %v", err)
	}
}
