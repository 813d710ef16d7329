package redis

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
)

var _ account.Ceremonies = (*Ceremonies)(nil)

// Ceremonies keeps the state of WebAuthn ceremonies between their two steps
// in Redis, so that any instance can finish what another began. Keys expire
// with the ceremony; GETDEL takes a state once.
type Ceremonies struct {
	client goredis.UniversalClient
	prefix string
}

// NewCeremonies returns Ceremonies that keep their state under
// prefix+"webauthn:".
func NewCeremonies(client goredis.UniversalClient, prefix string) *Ceremonies {
	return &Ceremonies{client: client, prefix: prefix}
}

func (c *Ceremonies) key(key string) string { return c.prefix + "webauthn:" + key }

// Put keeps state under key for ttl. It returns account.ErrUnavailable when
// Redis cannot be reached.
func (c *Ceremonies) Put(ctx context.Context, key string, state []byte, ttl time.Duration) error {
	return wrapUnavailable("keep webauthn ceremony", c.client.Set(ctx, c.key(key), state, ttl).Err())
}

// Take returns the state under key and deletes it in one command. It
// returns account.ErrNotFound when key holds nothing, and
// account.ErrUnavailable when Redis cannot be reached.
func (c *Ceremonies) Take(ctx context.Context, key string) ([]byte, error) {
	state, err := c.client.GetDel(ctx, c.key(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, wrapUnavailable("take webauthn ceremony", err)
	}
	return state, nil
}
