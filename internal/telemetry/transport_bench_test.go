package telemetry_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// answer is a RoundTripper that answers every request at once.
type answer struct{ resp *http.Response }

func (a answer) RoundTrip(*http.Request) (*http.Response, error) { return a.resp, nil }

// BenchmarkInstrumentTransport measures what the instrumentation adds to
// one request: naming its operation and counting it.
func BenchmarkInstrumentTransport(b *testing.B) {
	m := telemetry.NewMetrics(telemetry.WithoutRuntimeMetrics(), lpOperations())
	rt := telemetry.InstrumentTransport(answer{&http.Response{StatusCode: http.StatusOK, Body: http.NoBody}}, m, opOf)
	req, err := http.NewRequestWithContext(context.WithValue(context.Background(), opKey{}, opChatEvents),
		http.MethodGet, "http://lp.example/api/account/1/agentSession/2/chat", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		_ = resp.Body.Close()
	}
}
