// Command accountd is an account and token service: registration, OAuth2
// password-grant login, JWT access tokens, rotating refresh tokens and
// revocation, on PostgreSQL and Redis.
//
// Usage:
//
//	accountd [serve]              run the HTTP server
//	accountd migrate up|down|status
//	accountd cleanup              delete long-expired and long-revoked sessions, and old security events
//	accountd keys list [--json] | rotate [--now] | revoke KID
//	accountd accounts ...         operator commands: list, show, disable, enable, revoke-sessions,
//	                              set-password, delete, events (see accountd accounts --help)
//	accountd healthcheck          exit 0 when the local server's /health is 200
//	accountd version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/accountd/accountd/internal/security"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// More Ps than CPUs while hashes run, so that requests find a free P
	// while they fill every slot: see security.ProcsPerHashSlot.
	err := runWith(ctx, os.Args, os.Environ(), streams{in: os.Stdin, out: os.Stdout, err: os.Stderr,
		hashBusy: security.GOMAXPROCSGovernor(runtime.GOMAXPROCS(0), runtime.GOMAXPROCS)})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "accountd:", err)
		os.Exit(exitCode(err))
	}
}

const usage = `usage: accountd [serve | migrate up|down|status | cleanup | keys list|rotate|revoke | accounts ... | healthcheck | version]`

// streams are a command's standard streams, and what else a command takes
// from the process it runs in.
type streams struct {
	in       io.Reader
	out, err io.Writer
	// hashBusy, when set, is told when password hashing starts and stops
	// (security.WithBusy). Only main sets it: it changes GOMAXPROCS, which
	// belongs to the whole process, not to one of the servers that tests run
	// side by side.
	hashBusy func(bool)
}

// run is the whole program: it parses args and the environment, and returns
// when the command is done or ctx is cancelled. Commands that read stdin or
// write stderr use the process's.
func run(ctx context.Context, args, environ []string, stdout io.Writer) error {
	return runWith(ctx, args, environ, streams{in: os.Stdin, out: stdout, err: os.Stderr})
}

// runWith is run with every stream given.
func runWith(ctx context.Context, args, environ []string, std streams) error {
	stdout := std.out
	cmd := "serve"
	if len(args) > 1 {
		cmd = args[1]
	}
	switch cmd {
	case "serve":
		return serve(ctx, environ, stdout, std.hashBusy)
	case "migrate":
		sub := ""
		if len(args) > 2 {
			sub = args[2]
		}
		return migrate(ctx, sub, environ, stdout)
	case "cleanup":
		return cleanup(ctx, environ, stdout)
	case "keys":
		var rest []string
		if len(args) > 2 {
			rest = args[2:]
		}
		return keysCommand(ctx, rest, environ, stdout)
	case "accounts":
		if len(args) > 2 && (args[2] == "-h" || args[2] == "--help" || args[2] == "help") {
			_, err := fmt.Fprintln(stdout, accountsUsage)
			return err
		}
		return accounts(ctx, args[2:], environ, std)
	case "healthcheck":
		return healthcheck(ctx, environ, stdout)
	case "version", "--version", "-v":
		_, err := fmt.Fprintf(stdout, "accountd %s\n", version)
		return err
	case "help", "-h", "--help":
		_, err := fmt.Fprintln(stdout, usage)
		return err
	default:
		return usageErrorf("unknown command %q; %s", cmd, usage)
	}
}
