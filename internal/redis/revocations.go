package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
)

var _ account.Revocations = (*Revocations)(nil)

// Revocations keeps the list of sessions whose access tokens are revoked, as
// keys that expire when the last access token they cover has expired.
type Revocations struct {
	client goredis.UniversalClient
	prefix string
}

// NewRevocations returns Revocations that store keys under prefix.
func NewRevocations(client goredis.UniversalClient, prefix string) *Revocations {
	return &Revocations{client: client, prefix: prefix}
}

func (r *Revocations) key(sessionID string) string { return r.prefix + "revoked:sid:" + sessionID }

// RevokeSessions marks the sessions revoked until the given time. It returns
// account.ErrUnavailable when Redis cannot be reached.
func (r *Revocations) RevokeSessions(ctx context.Context, sessionIDs []string, until time.Time) error {
	_, err := r.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, id := range sessionIDs {
			p.SetArgs(ctx, r.key(id), 1, goredis.SetArgs{ExpireAt: until})
		}
		return nil
	})
	return unavailable("revoke sessions", err)
}

// SessionRevoked reports whether the session is revoked. It returns
// account.ErrUnavailable when Redis cannot be reached.
func (r *Revocations) SessionRevoked(ctx context.Context, sessionID string) (bool, error) {
	n, err := r.client.Exists(ctx, r.key(sessionID)).Result()
	if err != nil {
		return false, unavailable("check revocation", err)
	}
	return n > 0, nil
}
