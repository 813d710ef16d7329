package main

import (
	"encoding/json"
	"net/http"
	"strings"
)

// accessToken is the request's bearer token, else its access_token cookie
// (which accountd sets at login for browsers on the same site).
func accessToken(r *http.Request) string {
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	if c, err := r.Cookie("access_token"); err == nil {
		return c.Value
	}
	return ""
}

// NewHandler returns the example's routes.
func NewHandler(v *Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		c, err := v.Verify(accessToken(r))
		if err != nil {
			unauthorized(w)
			return
		}
		kid := ""
		if t, _, err := v.parser.ParseUnverified(accessToken(r), &Claims{}); err == nil {
			kid, _ = t.Header["kid"].(string)
		}
		writeJSON(w, map[string]string{"account": c.Subject, "session": c.SessionID, "kid": kid})
	})
	mux.HandleFunc("GET /hello/introspected", func(w http.ResponseWriter, r *http.Request) {
		in, err := v.Introspect(r.Context(), accessToken(r))
		switch {
		case err != nil:
			http.Error(w, `{"detail":"cannot check the token now"}`, http.StatusServiceUnavailable)
		case !in.Active:
			unauthorized(w)
		default:
			writeJSON(w, map[string]string{"account": in.Subject, "session": in.SessionID, "username": in.Username})
		}
	})
	return mux
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(`{"detail":"invalid token"}` + "\n"))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
