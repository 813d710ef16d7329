package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/redis/redistest"
)

func TestKeyFeedCarriesAnnouncements(t *testing.T) {
	client, prefix := redistest.New(t)
	feed := redis.NewKeyFeed(client, prefix)
	ctx, cancel := context.WithCancel(t.Context())
	changes, pings := make(chan struct{}, 16), make(chan struct{}, 1024)
	done := make(chan error, 1)
	go func() {
		done <- feed.Follow(ctx, func(changed bool) {
			if changed {
				changes <- struct{}{}
			} else {
				select {
				case pings <- struct{}{}:
				default:
				}
			}
		})
	}()
	wait := func(c chan struct{}, what string) {
		t.Helper()
		select {
		case <-c:
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s within 10s", what)
		}
	}
	wait(changes, "confirmation of the subscription")
	wait(pings, "sign of life while idle")
	other := redis.NewKeyFeed(client, prefix)
	if err := other.Announce(t.Context()); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	wait(changes, "announcement")
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("Follow did not return after its context ended")
	}
}
