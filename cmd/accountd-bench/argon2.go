package main

import (
	"context"
	"crypto/subtle"
	"fmt"
	"runtime"

	"golang.org/x/crypto/argon2"

	"github.com/accountd/accountd/internal/security"
)

// argon2Settings are the settings of the argon2id instance: PASSWORD_HASH
// with accountd's default argon2id parameters.
var argon2Settings = []string{"PASSWORD_HASH=" + security.Argon2id}

// argon2Rate measures raw argon2id comparisons of a good password per
// second, with accountd's default parameters, on GOMAXPROCS goroutines for
// the bcrypt baseline's time. Each allocates its memory afresh, as
// accountd's do.
func argon2Rate(ctx context.Context, o options) float64 {
	p := security.DefaultArgon2Params
	password, salt := []byte("bench-password-"+randomHex(4)), []byte(randomHex(8))
	key := argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, 32)
	return parallelRate(ctx, o.bcryptFor, func() {
		_ = subtle.ConstantTimeCompare(argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, 32), key)
	})
}

// argon2Results are what the argon2id step measured.
type argon2Results struct {
	compare float64 // raw compares/s
	login   Stats
	memory  Memory
}

// measureArgon2 starts a second accountd with PASSWORD_HASH=argon2id on the
// same database and Redis prefix as rs, registers accounts of its own (so
// that their hashes are argon2id), and logs them in as the login scenario
// does; step runs each timed part as measure's steps are run, and ours is
// told the instance's pid, whose CPU time is the benchmark's own.
func measureArgon2(ctx context.Context, o options, rs *runningService, dbURL string, load func(int) Load,
	step func(string, func() error) error, ours func(pid int)) (argon2Results, error) {
	var res argon2Results
	if err := step("argon2id", func() error { res.compare = argon2Rate(ctx, o); return nil }); err != nil {
		return res, err
	}
	ar, err := startAccountd(ctx, o, dbURL, rs.prefix, argon2Settings...)
	if err != nil {
		return res, fmt.Errorf("argon2id instance: %w", err)
	}
	defer ar.stop()
	ours(ar.proc.PID())
	procs := runtime.GOMAXPROCS(0)
	accounts, err := ar.setupAccounts(ctx, loginAccounts, 2*procs)
	if err != nil {
		return res, fmt.Errorf("argon2id instance: %w", err)
	}
	if err := step("login argon2id", func() error {
		res.login = load(2*procs).Run(ctx, ar.loginJobs(accounts))
		return nil
	}); err != nil {
		return res, err
	}
	if err := ar.proc.Exited(); err != nil {
		return res, fmt.Errorf("argon2id instance: %w", err)
	}
	res.memory, err = ar.memory()
	return res, err
}
