package enginetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// SentinelMaster is the name under which the sentinels monitor the primary.
const SentinelMaster = "accountd"

// sentinelDownAfter is how long a primary must stay silent before the
// sentinels consider it down; small, so that failovers in tests take seconds.
const sentinelDownAfter = 1000 * time.Millisecond

// Sentinel is a private Redis Sentinel deployment: one primary, one replica
// and three sentinels with a quorum of two.
type Sentinel struct {
	t         testing.TB
	Nodes     []*RedisNode // the primary and the replica, in start order
	Sentinels []*RedisNode
}

// StartSentinel starts the primary, the replica (waiting until it has
// synced) and three sentinels (waiting until they know each other and the
// replica), each on a free port.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	need(t, "redis-sentinel")
	dir := workDir(t, "sentinel")
	s := &Sentinel{t: t}
	primary := startRedis(t, dir, FreePort(t), "--dbfilename", "primary.rdb")
	replica := startRedis(t, dir, FreePort(t), "--dbfilename", "replica.rdb",
		"--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	s.Nodes = []*RedisNode{primary, replica}
	waitUntil(t, replica.Proc, "replica sync", 10*time.Second, func() error {
		if st := replica.info("replication", "master_link_status"); st != "up" {
			return fmt.Errorf("master_link_status %q", st)
		}
		return nil
	})
	for i := range 3 {
		port := FreePort(t)
		conf := path(dir, fmt.Sprintf("sentinel-%d.conf", i))
		writeFile(t, conf, lines(
			"port "+strconv.Itoa(port),
			"bind 127.0.0.1",
			"daemonize no",
			"dir "+dir,
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", SentinelMaster, primary.Port),
			fmt.Sprintf("sentinel down-after-milliseconds %s %d", SentinelMaster, sentinelDownAfter.Milliseconds()),
			fmt.Sprintf("sentinel failover-timeout %s 5000", SentinelMaster),
			fmt.Sprintf("sentinel parallel-syncs %s 1", SentinelMaster),
		))
		n := &RedisNode{Port: port}
		n.Proc = start(t, "redis-sentinel:"+strconv.Itoa(port), dir, "redis-sentinel", conf)
		n.waitPing(t)
		s.Sentinels = append(s.Sentinels, n)
	}
	for _, sn := range s.Sentinels {
		c := goredis.NewSentinelClient(&goredis.Options{Addr: sn.Addr(), DialTimeout: time.Second})
		waitUntil(t, sn.Proc, "sentinel "+sn.Addr()+" discovery", 30*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			others, err := c.Sentinels(ctx, SentinelMaster).Result()
			if err != nil || len(others) < 2 {
				return fmt.Errorf("knows %d other sentinels: %w", len(others), err)
			}
			replicas, err := c.Replicas(ctx, SentinelMaster).Result()
			if err != nil || len(replicas) < 1 {
				return fmt.Errorf("knows %d replicas: %w", len(replicas), err)
			}
			return nil
		})
		_ = c.Close()
	}
	return s
}

// Addrs returns the sentinels' host:port addresses.
func (s *Sentinel) Addrs() []string {
	out := make([]string, len(s.Sentinels))
	for i, n := range s.Sentinels {
		out[i] = n.Addr()
	}
	return out
}

// PrimaryAddr asks the sentinels which node is the primary now.
func (s *Sentinel) PrimaryAddr() (string, error) {
	var errs []error
	for _, sn := range s.Sentinels {
		if sn.Proc.Exited() {
			continue
		}
		c := goredis.NewSentinelClient(&goredis.Options{Addr: sn.Addr(), DialTimeout: time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		hp, err := c.GetMasterAddrByName(ctx, SentinelMaster).Result()
		cancel()
		_ = c.Close()
		if err == nil && len(hp) == 2 {
			return net.JoinHostPort(hp[0], hp[1]), nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("no sentinel names the primary: %w", errors.Join(errs...))
}

// Primary returns the node that the sentinels name as the primary.
func (s *Sentinel) Primary() *RedisNode {
	s.t.Helper()
	a, err := s.PrimaryAddr()
	if err != nil {
		s.t.Fatalf("enginetest: %v", err)
	}
	for _, n := range s.Nodes {
		if n.Addr() == a {
			return n
		}
	}
	s.t.Fatalf("enginetest: the sentinels name %s, which is none of the nodes", a)
	return nil
}

// KillPrimary kills the current primary, as a crash would, and returns it.
func (s *Sentinel) KillPrimary() *RedisNode {
	s.t.Helper()
	p := s.Primary()
	p.Kill()
	return p
}

// WaitPromoted waits until the sentinels name another primary than old and
// that node answers as a primary, and returns it.
func (s *Sentinel) WaitPromoted(old *RedisNode, timeout time.Duration) *RedisNode {
	s.t.Helper()
	var promoted *RedisNode
	waitUntil(s.t, nil, "sentinel failover", timeout, func() error {
		a, err := s.PrimaryAddr()
		if err != nil {
			return err
		}
		if a == old.Addr() {
			return errors.New("the sentinels still name the old primary")
		}
		for _, n := range s.Nodes {
			if n.Addr() == a && n.info("replication", "role") == "master" {
				promoted = n
				return nil
			}
		}
		return fmt.Errorf("%s does not answer as a primary yet", a)
	})
	return promoted
}
