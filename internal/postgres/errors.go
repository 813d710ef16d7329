package postgres

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/accountd/accountd/internal/account"
)

// SQLSTATE codes this package reacts to.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeInvalidTextRep       = "22P02"
	codeInvalidCatalogName   = "3D000"
	codeDuplicateDatabase    = "42P04"
	codeTooManyConnections   = "53300"
	codeQueryCanceled        = "57014" // statement_timeout or a cancel request
	codeAdminShutdown        = "57P01"
	codeCrashShutdown        = "57P02"
	codeCannotConnectNow     = "57P03"
	classConnectionException = "08"
)

// translate turns a driver error into the domain's errors at the boundary:
// pgx.ErrNoRows becomes account.ErrNotFound, and a database that cannot be
// reached, or a query given up because its context ended, becomes
// account.ErrUnavailable with the cause kept (account.Canceled still tells
// a cancelled one); op says what was being done. The driver's error text
// never carries query parameters, so none leak here.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w", op, account.ErrNotFound)
	case connectionLost(err), account.Unavailable(err):
		return fmt.Errorf("%s: %w: %w", op, account.ErrUnavailable, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// connectionLost reports whether err is the driver saying that the database
// could not be reached, dropped the connection, refused it for now or did
// not answer in time, as opposed to rejecting the query. Whether that is
// the service being unavailable is account.Unavailable's call.
func connectionLost(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &connectErr):
		// Whatever made the connection attempt fail (refused, DNS, auth,
		// missing database), the caller cannot be served right now.
		return true
	case errors.As(err, &pgErr):
		code := pgErr.Code
		return strings.HasPrefix(code, classConnectionException) || code == codeTooManyConnections ||
			code == codeQueryCanceled || code == codeAdminShutdown ||
			code == codeCrashShutdown || code == codeCannotConnectNow
	case errors.As(err, &netErr),
		errors.Is(err, puddle.ErrClosedPool),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		pgconn.Timeout(err):
		return true
	}
	return false
}

// hasCode reports whether err carries the PostgreSQL SQLSTATE code.
func hasCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// validUUID reports whether s is a UUID in its canonical text form
// (8-4-4-4-12 hex digits). Ids that fail this cannot name a row, so lookups
// answer ErrNotFound for them without asking the database.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}
