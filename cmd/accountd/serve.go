package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/app"
	"github.com/accountd/accountd/internal/config"
	accounthttp "github.com/accountd/accountd/internal/http"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/security"
)

// newLogger returns the logger that cfg asks for, writing to w. Lines
// logged during a request carry its request_id.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(accounthttp.LogHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(accounthttp.LogHandler(slog.NewJSONHandler(w, opts)))
}

// openPostgres connects to the database (creating it when missing) and
// migrates it when cfg asks for that.
func openPostgres(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pool, err := openDatabase(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.MigrateOnStart {
		if err := withMigrationPool(ctx, cfg, pool, func(p *pgxpool.Pool) error {
			return postgres.Migrate(ctx, p)
		}); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return pool, nil
}

// openRedis connects to REDIS_URL, or starts the in-process server when it
// is unset. The returned func releases what it opened.
func openRedis(ctx context.Context, cfg config.Config, log *slog.Logger) (goredis.UniversalClient, func(), error) {
	url := string(cfg.RedisURL)
	closeEmbedded := func() {}
	if url == "" {
		e, err := redis.StartEmbedded()
		if err != nil {
			return nil, nil, err
		}
		log.Warn("REDIS_URL is unset: using an in-process Redis-compatible server; " +
			"revocations and rate limits are not shared with other instances")
		url, closeEmbedded = e.URL(), e.Close
	}
	rdb, err := redis.Open(ctx, url)
	if err != nil {
		closeEmbedded()
		return nil, nil, err
	}
	return rdb, func() { _ = rdb.Close(); closeEmbedded() }, nil
}

func sameSite(s string) http.SameSite {
	switch strings.ToLower(s) {
	case "strict":
		return http.SameSiteStrictMode
	case "none":
		return http.SameSiteNoneMode
	default:
		return http.SameSiteLaxMode
	}
}

// serve runs the HTTP server until ctx is cancelled, then drains in-flight
// requests for at most SHUTDOWN_TIMEOUT.
func serve(ctx context.Context, environ []string, stdout io.Writer, hashBusy func(bool)) error {
	cfg, err := config.Load(environ)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	breachedList, closeBreached, err := openBreached(cfg, log)
	if err != nil {
		return err
	}
	defer closeBreached()

	startCtx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	pool, err := openPostgres(startCtx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	rdb, closeRedis, err := openRedis(startCtx, cfg, log)
	if err != nil {
		return err
	}
	defer closeRedis()

	met, metricsHandler := newMetrics(pool, rdb)
	stopMetrics, err := startMetricsServer(ctx, cfg, metricsHandler, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	stopPprof, err := startPprofServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopPprof()

	hasher, err := security.NewHasher(cfg.BcryptCost, hashSlots(),
		security.WithQueueTimeout(cfg.BcryptQueueTimeout), security.WithObserver(met),
		security.WithAlgorithm(cfg.PasswordHash), security.WithArgon2(cfg.Argon2Params()),
		security.WithBusy(hashBusy))
	if err != nil {
		return fmt.Errorf("BCRYPT_COST: %w", err)
	}
	factorCipher, err := app.FactorCipher([]byte(cfg.SecretKey), log)
	if err != nil {
		return err
	}
	deps := app.Deps{Pool: pool, Redis: rdb, KeyPrefix: cfg.RedisKeyPrefix, Hasher: hasher, Logger: log,
		FactorCipher: factorCipher}
	// The view and the keys outlive ctx until the server has drained, so
	// requests in flight during shutdown can still check their tokens.
	viewCtx, stopView := context.WithCancel(context.WithoutCancel(ctx))
	defer stopView()
	tokens, err := app.NewTokens(viewCtx, deps, tokenConfig(cfg, met))
	if err != nil {
		return err
	}
	deps.Tokens = tokens.JWT
	if tokens.Keys != nil {
		met.WatchKeys(tokens.Keys.Counts)
	}
	in := app.New(viewCtx, deps, account.Config{
		RefreshTTL: cfg.RefreshTTL(), ReuseGrace: cfg.RefreshReuseGrace, SessionMaxLifetime: cfg.SessionMaxLifetime,
		Limits: limits(cfg), Observer: met, Breached: breachedList,
	})
	passkeys, err := app.NewPasskeys(deps, in.Service, app.PasskeyConfig{
		RPID: cfg.WebAuthnRPID, RPName: cfg.WebAuthnRPName, Origins: cfg.WebAuthnOrigins,
	})
	if err != nil {
		return err
	}
	proxies, _ := cfg.TrustedProxyPrefixes() // validated by config.Load
	warnInsecureCookies(cfg, proxies, log)
	drain := &draining{}
	health := app.Checks(deps)
	health["accountd"] = drain.check

	h := accounthttp.NewHandler(accounthttp.Config{
		Service: in.Service, Logger: log, Version: version, TrustedProxies: proxies,
		ClientIPHeader:     accounthttp.ClientIPHeader(cfg.ClientIPHeader),
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		RequestTimeout:     cfg.RequestTimeout,
		Metrics:            met, MetricsHandler: mainRouterMetrics(cfg, metricsHandler),
		Cookies: accounthttp.CookieConfig{
			Secure: cfg.CookieSecure, SameSite: sameSite(cfg.CookieSameSite), Domain: cfg.CookieDomain,
		},
		Health: health,
		// The JWKS (nil under HS*: an empty one), discovery and introspection.
		Keys: jwksSource(tokens.Keys), JWKSMaxAge: cfg.JWKSMaxAge, JWKSObserver: met,
		Issuer: cfg.JWTIssuer, PublicURL: cfg.PublicURL, IntrospectionClients: cfg.IntrospectionClients,
		Passkeys: passkeys,
	})
	go cleanupLoop(ctx, pool, cfg, log)
	srv := accounthttp.NewServer(cfg.HTTPAddr, h, cfg.RequestTimeout, log)
	return listenAndServe(ctx, cfg, srv, drain, log)
}

// listenAndServe serves until ctx ends, then shuts down gracefully: /health
// answers 503 for SHUTDOWN_DELAY, then in-flight requests get at most
// SHUTDOWN_TIMEOUT to finish.
func listenAndServe(ctx context.Context, cfg config.Config, srv *http.Server, drain *draining, log *slog.Logger) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	log.Info("accountd listening", slog.String("addr", ln.Addr().String()), slog.String("version", version))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// /health turns 503 first, so that load balancers stop sending traffic
	// before the listener closes.
	drain.Store(true)
	log.Info("shutting down", slog.Duration("delay", cfg.ShutdownDelay), slog.Duration("timeout", cfg.ShutdownTimeout))
	time.Sleep(cfg.ShutdownDelay)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// startupTimeout bounds connecting to dependencies at start.
const startupTimeout = 30 * time.Second

// hashSlots is how many hash computations run at once: one per CPU.
func hashSlots() int { return security.HashSlots(runtime.GOMAXPROCS(0)) }

// warnInsecureCookies warns, once at start, when COOKIE_SECURE=auto can
// never mark a cookie Secure: accountd serves plain HTTP, so auto needs a
// trusted proxy that says the client used https.
func warnInsecureCookies(cfg config.Config, proxies []netip.Prefix, log *slog.Logger) {
	if cfg.CookieSecure == "auto" && len(proxies) == 0 {
		log.Warn("COOKIE_SECURE=auto and TRUSTED_PROXIES is unset: accountd serves plain HTTP, so refresh-token " +
			"cookies will not be marked Secure; set TRUSTED_PROXIES to the proxy that terminates TLS, or COOKIE_SECURE=true")
	}
}
