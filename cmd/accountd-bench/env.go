package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/accountd/accountd/internal/config"
)

// benchSecretKey is the fixed 48-byte SECRET_KEY of the benchmarked service.
const benchSecretKey = "accountd-bench-secret-key-not-for-production-use"

// limiterOff is the value that turns each rate limit of accountd off, so
// that the benchmark measures throughput, not the limiter. Only the
// variables that config.Config still has are passed.
var limiterOff = map[string]string{
	"RATE_LIMIT_IP_REQUESTS": "0",
	"LOGIN_MAX_FAILURES":     "0",
}

// limiterKept are limiter settings that do nothing once the counts above
// are off (their windows), so they keep their defaults.
var limiterKept = []string{"RATE_LIMIT_IP_WINDOW", "LOGIN_FAILURE_WINDOW"}

// limiterLike matches the names of settings that could throttle the
// benchmark. One that is in neither table above stops the run: its "off"
// value has to be taught here first, or the figures would measure it.
var limiterLike = regexp.MustCompile(`RATE_?LIMIT|MAX_FAILURES|LOCKOUT|THROTTL|QUOTA`)

// serviceEnv describes the benchmarked service's settings.
type serviceEnv struct {
	DatabaseURL string
	RedisURL    string
	RedisPrefix string
	BcryptCost  int
	HTTPAddr    string
	// Extra are settings of one scenario, e.g. PASSWORD_HASH=argon2id.
	Extra []string
}

// configVars returns the names of every variable config.Config reads.
func configVars() []string {
	var names []string
	t := reflect.TypeFor[config.Config]()
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("env"); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// environ returns accountd's environment: this process's, minus every
// variable accountd reads (so a developer's shell settings do not leak in),
// plus the benchmark's production settings. It also returns the limiter
// settings it turned off.
func (s serviceEnv) environ() (env, limitersOff []string, err error) {
	known := configVars()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(known, name) {
			env = append(env, kv)
		}
	}
	env = append(env,
		"DATABASE_URL="+s.DatabaseURL,
		"MIGRATE_ON_START=true",
		"REDIS_URL="+s.RedisURL,
		"REDIS_KEY_PREFIX="+s.RedisPrefix,
		"SECRET_KEY="+benchSecretKey,
		"INTROSPECTION_CLIENTS="+benchClientID+":"+benchClientSecret,
		"BCRYPT_COST="+strconv.Itoa(s.BcryptCost),
		"HTTP_ADDR="+s.HTTPAddr,
		"LOG_LEVEL=warn",
		"LOG_FORMAT=json",
	)
	env = append(env, s.Extra...)
	for _, name := range known {
		if off, ok := limiterOff[name]; ok {
			env = append(env, name+"="+off)
			limitersOff = append(limitersOff, name+"="+off)
			continue
		}
		if limiterLike.MatchString(name) && !slices.Contains(limiterKept, name) {
			return nil, nil, fmt.Errorf("accountd has a new limiter setting %s: add its off value to limiterOff in cmd/accountd-bench/env.go", name)
		}
	}
	return env, limitersOff, nil
}

// requireLoopback returns an error unless rawURL's host is a loopback
// address: all benchmark load stays on this machine.
func requireLoopback(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("parse %q: %w", rawURL, err)
	}
	return requireLoopbackHost(u.Hostname())
}

func requireLoopbackHost(host string) error {
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("host %q is not a loopback address (use 127.0.0.1)", host)
}
