package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPprofListener checks that PPROF_ADDR serves the profiles on a listener
// of its own, that the public port does not, and that the address is logged.
func TestPprofListener(t *testing.T) {
	t.Parallel()
	in := start(t, append(baseEnv(t), "PPROF_ADDR=127.0.0.1:0"))
	pprofAddr := in.sideAddr(t, "profiling listening: keep this address private")

	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url) //nolint:gosec // G107: a loopback URL of this test
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, string(b)
	}
	if st, body := get("http://" + pprofAddr + "/debug/pprof/"); st != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("GET /debug/pprof/ on PPROF_ADDR = %d, want 200 with the list of profiles; body %.200q", st, body)
	}
	if st, body := get("http://" + pprofAddr + "/debug/pprof/heap?debug=1"); st != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("GET /debug/pprof/heap on PPROF_ADDR = %d, want 200 with a heap profile; body %.200q", st, body)
	}
	if st, _ := get(in.URL + "/debug/pprof/"); st != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ on HTTP_ADDR = %d, want 404", st)
	}
}
