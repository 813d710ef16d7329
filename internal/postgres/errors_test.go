package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/postgres/pgtest"
)

// A query given up because its caller's context was cancelled is
// ErrUnavailable at the boundary, like any other failure to get an answer,
// and still says it was cancelled: whether that is a client gone is for
// the caller to tell, by its own context.
func TestCanceledIsUnavailableAndCanceled(t *testing.T) {
	_, pool := pgtest.NewDatabase(t)
	uuid := newAccount(t, pool)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := postgres.NewAccountStore(pool).ByUUID(ctx, uuid)
	if !errors.Is(err, account.ErrUnavailable) || !account.Canceled(err) {
		t.Fatalf("ByUUID with a cancelled context: got %v, want ErrUnavailable and context.Canceled", err)
	}
}
