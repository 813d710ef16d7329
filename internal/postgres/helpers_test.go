package postgres_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/postgres/pgtest"
)

// t0 is the clock the session tests start from.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// newID returns a random version 4 UUID in its text form.
func newID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newHash returns the SHA-256 hash of a fresh random token.
func newHash(t *testing.T) []byte {
	t.Helper()
	h := sha256.Sum256([]byte(rand.Text()))
	return h[:]
}

// fixtureHash is the password hash of every account newAccount stores.
const fixtureHash = "$2a$12$hash"

// newAccount stores an account with a random account id and returns its UUID.
func newAccount(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	a, err := postgres.NewAccountStore(pool).Create(t.Context(), account.NewAccount{
		AccountID:    "user-" + rand.Text()[:10],
		PasswordHash: fixtureHash,
		CreatedAt:    t0,
	})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return a.UUID
}

// sessionFixture is a migrated database with one account in it.
type sessionFixture struct {
	pool        *pgxpool.Pool
	store       *postgres.SessionStore
	accountUUID string
}

func newSessionFixture(t *testing.T) sessionFixture {
	t.Helper()
	_, pool := pgtest.NewDatabase(t)
	return sessionFixture{pool: pool, store: postgres.NewSessionStore(pool), accountUUID: newAccount(t, pool)}
}

// newSession starts a session created at createdAt that lives for a week and
// returns its id and the hash of its first refresh token.
func (f sessionFixture) newSession(t *testing.T, createdAt time.Time) (id string, hash []byte) {
	t.Helper()
	id, hash = newID(t), newHash(t)
	err := f.store.Create(t.Context(), account.NewSession{
		ID:           id,
		AccountUUID:  f.accountUUID,
		PasswordHash: fixtureHash,
		TokenHash:    hash,
		Client:       account.Client{IPAddress: "192.0.2.1", UserAgent: "test/1"},
		CreatedAt:    createdAt,
		ExpiresAt:    createdAt.Add(7 * 24 * time.Hour),
	})
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	return id, hash
}

// countTokens returns how many refresh tokens the session has.
func (f sessionFixture) countTokens(t *testing.T, sessionID string) int {
	t.Helper()
	var n int
	err := f.pool.QueryRow(context.Background(),
		"SELECT count(*) FROM refresh_tokens WHERE session_id = $1", sessionID).Scan(&n)
	if err != nil {
		t.Fatalf("count refresh tokens: %v", err)
	}
	return n
}
