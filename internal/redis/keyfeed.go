package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/keys"
)

var _ keys.Feed = (*KeyFeed)(nil)

// keyFeedPing is how often an idle key feed is pinged, to prove it alive
// well within keys.StaleAfter.
const keyFeedPing = 300 * time.Millisecond

// KeyFeed announces changes to the signing keys on a pub/sub channel of
// their own, so that every instance reloads them at once instead of at its
// next poll. The announcement carries nothing: the keys are read from the
// store.
type KeyFeed struct {
	client  goredis.UniversalClient
	channel string
}

// NewKeyFeed returns the feed on the channel <prefix>keys.
func NewKeyFeed(client goredis.UniversalClient, prefix string) *KeyFeed {
	return &KeyFeed{client: client, channel: prefix + "keys"}
}

// Announce tells every instance that the keys changed.
func (f *KeyFeed) Announce(ctx context.Context) error {
	if err := f.client.Publish(ctx, f.channel, "changed").Err(); err != nil {
		return wrapUnavailable("announce signing key change", err)
	}
	return nil
}

// Follow subscribes and reports to heard until the subscription breaks.
func (f *KeyFeed) Follow(ctx context.Context, heard func(changed bool)) error {
	ps := f.client.Subscribe(ctx, f.channel)
	defer func() { _ = ps.Close() }()
	if _, err := ps.ReceiveTimeout(ctx, keys.StaleAfter); err != nil {
		return fmt.Errorf("subscribe to %s: %w", f.channel, err)
	}
	heard(true)
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, keyFeedPing)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return fmt.Errorf("receive: %w", err)
			}
			if err := ps.Ping(ctx); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			continue
		}
		_, changed := msg.(*goredis.Message)
		heard(changed)
	}
	return ctx.Err()
}
