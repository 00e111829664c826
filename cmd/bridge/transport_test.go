package main

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The bridge's one transport towards LivePerson is sized for its agents,
// resumes TLS sessions, and with BRIDGE_LP_CA_FILE trusts that CA.
func TestLivePersonTransportIsSharedAndSized(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	caFile := writeFile(t, t.TempDir(), "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	for _, ca := range []string{"", caFile} {
		tr, err := livePersonTransport(ca, 25)
		if err != nil {
			t.Fatalf("CA file %q: %v", ca, err)
		}
		if tr.MaxIdleConnsPerHost != 25 || tr.MaxConnsPerHost != 50 {
			t.Errorf("CA file %q: idle per host %d, per host %d; want 25, 50", ca, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost)
		}
		if tr.TLSClientConfig == nil || tr.TLSClientConfig.ClientSessionCache == nil {
			t.Errorf("CA file %q: no TLS session cache", ca)
		}
	}
	tr, err := livePersonTransport(caFile, 2)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatalf("with the CA file trusted: %v", err)
	}
	_ = resp.Body.Close()
	if resp.ProtoMajor != 1 {
		t.Errorf("spoke %s, want HTTP/1.1", resp.Proto)
	}
}
