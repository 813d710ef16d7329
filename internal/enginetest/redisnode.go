package enginetest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisNode is one private redis-server (or redis-sentinel) process.
type RedisNode struct {
	Proc *Proc
	Port int
}

// startRedis starts redis-server on port with extra arguments, its files in
// dir, and waits until it answers PING.
func startRedis(t testing.TB, dir string, port int, extra ...string) *RedisNode {
	t.Helper()
	args := append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
	}, extra...)
	n := &RedisNode{Port: port}
	n.Proc = start(t, "redis-server:"+strconv.Itoa(port), dir, "redis-server", args...)
	n.waitPing(t)
	return n
}

func (n *RedisNode) waitPing(t testing.TB) {
	t.Helper()
	c := n.Client()
	defer c.Close()
	waitUntil(t, n.Proc, n.Proc.name, 10*time.Second, func() error {
		return c.Ping(context.Background()).Err()
	})
}

// Addr returns the node's host:port.
func (n *RedisNode) Addr() string { return addr(n.Port) }

// Client returns a new plain client of this node alone; close it after use.
func (n *RedisNode) Client() *goredis.Client {
	return goredis.NewClient(&goredis.Options{
		Addr: n.Addr(), DialTimeout: time.Second, ReadTimeout: 2 * time.Second, MaxRetries: -1,
	})
}

// Kill stops the node at once, as a crash would.
func (n *RedisNode) Kill() { n.Proc.Kill() }

// info returns one field of INFO section on the node, or "" when the node
// does not answer.
func (n *RedisNode) info(section, field string) string {
	c := n.Client()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	return ""
}

// StartRedis starts a private standalone redis-server on a free port.
func StartRedis(t testing.TB) *RedisNode {
	t.Helper()
	return startRedis(t, workDir(t, "redis"), FreePort(t))
}
