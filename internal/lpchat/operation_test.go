package lpchat_test

import (
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// opRecorder is a transport that records the operation every request
// carries (lpchat.OperationOf). At the end of the test it fails the test
// for a request whose operation is not in lpchat.Operations: an endpoint
// added without a name would be counted as "other" by the metrics.
type opRecorder struct {
	inner http.RoundTripper

	mu      sync.Mutex
	seen    map[lpchat.Operation]int
	unnamed []string // method and path of requests with an unknown operation
}

// recordOperations returns an opRecorder that checks its requests when t ends.
func recordOperations(t testing.TB) *opRecorder {
	t.Helper()
	r := &opRecorder{inner: http.DefaultTransport.(*http.Transport).Clone(), seen: map[lpchat.Operation]int{}}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, u := range r.unnamed {
			t.Errorf("request %s carries no known operation", u)
		}
	})
	return r
}

func (r *opRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	op := lpchat.Operation(lpchat.OperationOf(req))
	r.mu.Lock()
	if slices.Contains(lpchat.Operations(), op) {
		r.seen[op]++
	} else {
		r.unnamed = append(r.unnamed, req.Method+" "+req.URL.Path+" ("+string(op)+")")
	}
	r.mu.Unlock()
	return r.inner.RoundTrip(req)
}

// wantAll fails t unless every operation of the table was made: a name no
// request uses is dead.
func (r *opRecorder) wantAll(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, op := range lpchat.Operations() {
		if r.seen[op] == 0 {
			t.Errorf("no request carried operation %q", op)
		}
	}
}

func TestOperationNamesAreUnique(t *testing.T) {
	names := lpchat.OperationNames()
	if len(names) != len(lpchat.Operations()) {
		t.Fatalf("%d names for %d operations", len(names), len(lpchat.Operations()))
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || n == "other" || seen[n] {
			t.Errorf("operation name %q is empty, reserved or repeated", n)
		}
		seen[n] = true
	}
}

func TestOperationOfForeignRequest(t *testing.T) {
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/api/account/1/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	if op := lpchat.OperationOf(req); op != "" {
		t.Errorf("OperationOf a request the client did not make = %q, want empty", op)
	}
}
