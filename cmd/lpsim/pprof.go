package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// serveProfiles serves Go's runtime profiles under /debug/pprof/ on addr,
// apart from the API, so that a load test can profile the simulator (go
// tool pprof http://addr/debug/pprof/profile?seconds=20). The returned
// function stops it.
func serveProfiles(addr string, stdout io.Writer) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-pprof-addr: listen: %w", err)
	}
	srv := telemetry.NewServer(ln.Addr().String(), nil, nil, telemetry.WithProfiling())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stdout, "lpsim: profiles:", err)
		}
	}()
	fmt.Fprintf(stdout, "lpsim: profiles on http://%s/debug/pprof/\n", ln.Addr())
	return func() {
		_ = srv.Shutdown(context.Background()) // nothing is long-lived on it but a profile being taken
		<-done
	}, nil
}
