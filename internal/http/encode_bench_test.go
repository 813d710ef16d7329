package http

import (
	"net/http"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the encoding alone.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkMeEncode is the JSON encoding of a /me answer, done once per
// account and then served from encodedProfiles.
func BenchmarkMeEncode(b *testing.B) {
	a := account.Account{UUID: "0f8fad5b-d9cb-469f-a165-70867728950e", AccountID: "bench.user",
		CreatedAt: time.Date(2026, 11, 27, 12, 0, 0, 123456000, time.UTC)}
	w := &discardWriter{h: http.Header{}}
	bodies := newEncodedProfiles()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = w.Write(bodies.get(a))
	}
}

// BenchmarkMeEncodeUncached is the encoding the cache saves.
func BenchmarkMeEncodeUncached(b *testing.B) {
	a := account.Account{UUID: "0f8fad5b-d9cb-469f-a165-70867728950e", AccountID: "bench.user",
		CreatedAt: time.Date(2026, 11, 27, 12, 0, 0, 123456000, time.UTC)}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		writeJSON(w, http.StatusOK, toAccountBody(a))
	}
}
