package http

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// JWKSSource is what publishes the JWKS: keys.Set.
type JWKSSource interface {
	// JWKS returns the JWKS document of the published keys and its ETag.
	JWKS() (body []byte, etag string)
}

// JWKSObserver is told about JWKS requests, for metrics.
type JWKSObserver interface {
	JWKSServed(notModified bool)
}

// emptyJWKS publishes no key: under HS*, nothing can be verified without
// SECRET_KEY.
type emptyJWKS struct{}

func (emptyJWKS) JWKS() ([]byte, string) { return []byte(`{"keys":[]}`), `"empty"` }

var jwkSetContentValue = []string{"application/jwk-set+json"}

// handleJWKS serves the published keys, cacheable for maxAge (the
// JWKS_MAX_AGE that the key life's publish-before-sign rule counts on),
// with an ETag so that a verifier's revalidation costs a 304.
func handleJWKS(src JWKSSource, maxAge time.Duration, obs JWKSObserver) http.Handler {
	if src == nil {
		src = emptyJWKS{}
	}
	cacheControl := []string{"public, max-age=" + strconv.Itoa(int(maxAge/time.Second))}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, etag := src.JWKS()
		h := w.Header()
		h["Cache-Control"] = cacheControl
		h["Etag"] = []string{etag}
		notModified := etagMatches(r.Header.Get("If-None-Match"), etag)
		if obs != nil {
			obs.JWKSServed(notModified)
		}
		if notModified {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h["Content-Type"] = jwkSetContentValue
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks of If-None-Match).
func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
