package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/app"
	"github.com/accountd/accountd/internal/config"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/security"
)

const accountsUsage = `usage: accountd accounts list [--query S] [--limit N] | show ID | disable ID | enable ID |
       revoke-sessions ID | set-password ID (reads the password from stdin) | delete ID |
       events ID [--limit N] [--before EVENT_ID]
ID is an account_id or a uuid; --json anywhere prints JSON.
exit status: 0 done, 1 no such account (or failed), 2 usage or rejected input`

// usageError is a wrong command line: exit 2, with the usage.
func usageError(format string, args ...any) error {
	return usageErrorf(format+"\n%s", append(args, accountsUsage)...)
}

// accountsArgs is a parsed `accountd accounts` command line.
type accountsArgs struct {
	sub, ref      string
	json          bool
	query         string
	limit         int
	before        int64
	readsPassword bool
}

// parseAccountsArgs parses what follows `accounts`: the subcommand, and
// flags and the ID in any order ("--" ends the flags); flags before the
// subcommand take no separate value (--json, --limit=5).
func parseAccountsArgs(args []string) (accountsArgs, error) {
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--" {
		i++
	}
	if i == len(args) || args[i] == "--" {
		return accountsArgs{}, usageError("accounts: missing command")
	}
	a := accountsArgs{sub: args[i]}
	args = append(slices.Clone(args[:i]), args[i+1:]...)
	fs := flag.NewFlagSet("accounts "+a.sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&a.json, "json", false, "")
	wantsID := true
	switch a.sub {
	case "list":
		wantsID = false
		fs.StringVar(&a.query, "query", "", "")
		fs.IntVar(&a.limit, "limit", account.DefaultAccountListLimit, "")
	case "events":
		fs.IntVar(&a.limit, "limit", account.DefaultEventLimit, "")
		fs.Int64Var(&a.before, "before", 0, "")
	case "set-password":
		a.readsPassword = true
	case "show", "disable", "enable", "revoke-sessions", "delete":
	default:
		return a, usageError("accounts: unknown command %q", a.sub)
	}
	rest, positional := args, []string(nil)
	if i := slices.Index(rest, "--"); i >= 0 {
		rest, positional = rest[:i], slices.Clone(rest[i+1:])
	}
	var ids []string
	for {
		if err := fs.Parse(rest); err != nil {
			return a, usageError("accounts %s: %v", a.sub, err)
		}
		if fs.NArg() == 0 {
			break
		}
		ids, rest = append(ids, fs.Arg(0)), fs.Args()[1:]
	}
	ids = append(ids, positional...)
	switch {
	case wantsID && len(ids) != 1:
		return a, usageError("accounts %s: want one ID, got %d", a.sub, len(ids))
	case !wantsID && len(ids) != 0:
		return a, usageError("accounts %s: takes no ID", a.sub)
	case wantsID:
		a.ref = ids[0]
	}
	return a, nil
}

// accounts runs `accountd accounts ...`: the operator's commands. The
// domain decides; this translates arguments to service calls and results
// to tables or JSON.
func accounts(ctx context.Context, args, environ []string, std streams) error {
	a, err := parseAccountsArgs(args)
	if err != nil {
		return err
	}
	var password string
	if a.readsPassword {
		if password, err = readPassword(std.in); err != nil {
			return &exitError{exitUsage, err}
		}
	}
	err = withOperator(ctx, environ, std.err, func(svc *account.Service) error {
		return runAccounts(ctx, svc, a, password, std.out)
	})
	var (
		verr *account.ValidationError
		ee   *exitError
	)
	switch {
	case err == nil, errors.As(err, &ee):
		return err
	case errors.Is(err, account.ErrNotFound):
		return &exitError{exitNotFound, fmt.Errorf("accounts %s: no account %q", a.sub, a.ref)}
	case errors.As(err, &verr):
		return &exitError{exitUsage, fmt.Errorf("accounts %s: %w", a.sub, verr)}
	default:
		return &exitError{exitFailure, fmt.Errorf("accounts %s: %w", a.sub, err)}
	}
}

// readPassword reads the new password from in: its first line, without
// the line ending.
func readPassword(in io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(in, 4096))
	if err != nil {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

// runAccounts carries out the parsed command on svc.
func runAccounts(ctx context.Context, svc *account.Service, a accountsArgs, password string, out io.Writer) error {
	op := account.Client{UserAgent: "accountd accounts " + a.sub, RequestID: security.NewID()}
	var (
		res account.OperatorResult
		err error
	)
	switch a.sub {
	case "list":
		list, err := svc.ListAccounts(ctx, a.query, a.limit)
		if err != nil {
			return err
		}
		return printAccounts(out, a.json, list)
	case "show":
		info, err := svc.InspectAccount(ctx, a.ref)
		if err != nil {
			return err
		}
		return printAccountInfo(out, a.json, info)
	case "events":
		list, err := svc.AccountEvents(ctx, a.ref, account.EventQuery{Before: a.before, Limit: a.limit})
		if err != nil {
			return err
		}
		return printEvents(out, a.json, list)
	case "disable":
		res, err = svc.DisableAccount(ctx, a.ref, op)
	case "enable":
		res, err = svc.EnableAccount(ctx, a.ref, op)
	case "revoke-sessions":
		res, err = svc.RevokeAccountSessions(ctx, a.ref, op)
	case "set-password":
		res, err = svc.SetPassword(ctx, a.ref, password, op)
	case "delete":
		res, err = svc.RemoveAccount(ctx, a.ref, op)
	}
	if err != nil {
		return err
	}
	return printResult(out, a.json, a.sub, res)
}

// withOperator runs fn with the operator's service on the configured
// database and Redis, logging to w.
func withOperator(ctx context.Context, environ []string, w io.Writer, fn func(*account.Service) error) error {
	cfg, err := config.Load(environ)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	log := newLogger(cfg, w)
	pool, err := postgres.Open(ctx, string(cfg.DatabaseURL))
	if err != nil {
		return err
	}
	defer pool.Close()
	// set-password hashes as serve does and refuses what serve refuses.
	hasher, err := security.NewHasher(cfg.BcryptCost, hashSlots(),
		security.WithAlgorithm(cfg.PasswordHash), security.WithArgon2(cfg.Argon2Params()))
	if err != nil {
		return fmt.Errorf("BCRYPT_COST: %w", err)
	}
	breachedList, closeBreached, err := openBreached(cfg, log)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	defer closeBreached()
	// Operator commands never issue or verify a token: the JWT only tells
	// the service how long the access tokens of a revoked session live.
	tokens, err := security.NewJWT(security.JWTConfig{
		Algorithm: "HS256", Key: security.RandomKey(64), Issuer: cfg.JWTIssuer, TTL: cfg.AccessTTL(),
	})
	if err != nil {
		return err
	}
	deps := app.Deps{Pool: pool, KeyPrefix: cfg.RedisKeyPrefix, Hasher: hasher, Tokens: tokens, Logger: log}
	if cfg.RedisURL != "" {
		rdb, err := redis.Open(ctx, string(cfg.RedisURL))
		if err != nil {
			return err
		}
		defer rdb.Close()
		deps.Redis = rdb
	} else {
		log.LogAttrs(ctx, slog.LevelInfo, "REDIS_URL is unset: revocations reach the instances through their polls")
	}
	return fn(app.NewOperator(deps, account.Config{
		RefreshTTL: cfg.RefreshTTL(), SessionMaxLifetime: cfg.SessionMaxLifetime, ReuseGrace: cfg.RefreshReuseGrace,
		Breached: breachedList,
	}))
}
