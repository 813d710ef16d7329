// Command resource-server is an example of a service that accepts
// accountd's access tokens without ever seeing SECRET_KEY: it verifies them
// offline against accountd's JWKS (github.com/MicahParks/keyfunc/v3 keeps
// the keys, refreshing them at least as often as accountd's JWKS_MAX_AGE),
// and, on the route that must see a logout at once, asks accountd's
// introspection endpoint instead.
//
// Usage:
//
//	ACCOUNTD_URL=http://localhost:8000 go run ./examples/resource-server
//
// Settings (environment): ACCOUNTD_URL (required), JWT_ISSUER (default
// "accountd", or accountd's PUBLIC_URL when that is set), JWT_AUDIENCE,
// JWKS_REFRESH (default 10m: at most accountd's JWKS_MAX_AGE),
// INTROSPECTION_CLIENT (id:secret, one of accountd's INTROSPECTION_CLIENTS),
// ADDR (default :8080).
//
// Routes: GET /hello (a valid access token, as a bearer token or the
// access_token cookie) and GET /hello/introspected (the same, checked by
// introspection, so a revoked session is refused at once).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "resource-server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	cfg, err := configFrom(getenv)
	if err != nil {
		return err
	}
	v, err := NewVerifier(ctx, cfg)
	if err != nil {
		return err
	}
	addr := getenv("ADDR")
	if addr == "" {
		addr = ":8080"
	}
	srv := &http.Server{Addr: addr, Handler: NewHandler(v), ReadHeaderTimeout: 5 * time.Second}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	slog.Info("resource server listening", slog.String("addr", ln.Addr().String()))
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// configFrom reads the settings from the environment.
func configFrom(getenv func(string) string) (Config, error) {
	cfg := Config{
		AccountdURL: strings.TrimRight(getenv("ACCOUNTD_URL"), "/"),
		Issuer:      getenv("JWT_ISSUER"),
		Audience:    getenv("JWT_AUDIENCE"),
		JWKSRefresh: 10 * time.Minute,
	}
	if cfg.AccountdURL == "" {
		return Config{}, fmt.Errorf("ACCOUNTD_URL is required")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "accountd"
	}
	if s := getenv("JWKS_REFRESH"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("JWKS_REFRESH: want a positive duration")
		}
		cfg.JWKSRefresh = d
	}
	if s := getenv("INTROSPECTION_CLIENT"); s != "" {
		id, secret, ok := strings.Cut(s, ":")
		if !ok {
			return Config{}, fmt.Errorf("INTROSPECTION_CLIENT: want id:secret")
		}
		cfg.ClientID, cfg.ClientSecret = id, secret
	}
	return cfg, nil
}
