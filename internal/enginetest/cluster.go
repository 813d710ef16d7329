package enginetest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// clusterNodeTimeout is how long a cluster node may stay silent before the
// others consider it failed; small, so that failovers in tests take seconds.
const clusterNodeTimeout = 1000 * time.Millisecond

// Cluster is a private Redis Cluster of three primaries, each with one
// replica that takes over when its primary fails.
type Cluster struct {
	t     testing.TB
	Nodes []*RedisNode
}

// StartCluster starts six cluster-enabled redis-server processes, joins them
// with redis-cli --cluster create (three primaries, one replica each) and
// waits until every node reports the cluster ok and every replica has
// synced.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	need(t, "redis-cli")
	dir := workDir(t, "cluster")
	c := &Cluster{t: t}
	args := make([]string, 0, 10)
	args = append(args, "--cluster", "create")
	for range 6 {
		port := FreePort(t)
		n := startRedis(t, dir, port,
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes-"+strconv.Itoa(port)+".conf",
			"--cluster-node-timeout", strconv.Itoa(int(clusterNodeTimeout.Milliseconds())),
			"--cluster-replica-validity-factor", "0",
			"--dbfilename", "dump-"+strconv.Itoa(port)+".rdb")
		c.Nodes = append(c.Nodes, n)
		args = append(args, n.Addr())
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	//nolint:gosec // G204: redis-cli with addresses the test chose
	if out, err := exec.CommandContext(ctx, need(t, "redis-cli"), args...).CombinedOutput(); err != nil {
		t.Fatalf("enginetest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitHealthy(30 * time.Second)
	return c
}

// Addrs returns the addresses of every node.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// WaitHealthy waits until every live node reports cluster_state ok and
// every live primary has a synced replica... or no live replica left to
// have.
func (c *Cluster) WaitHealthy(timeout time.Duration) {
	c.t.Helper()
	waitUntil(c.t, nil, "redis cluster ok", timeout, func() error {
		for _, n := range c.Nodes {
			if n.Proc.Exited() {
				continue
			}
			if st := n.clusterState(); st != "ok" {
				return fmt.Errorf("%s: cluster_state %q", n.Addr(), st)
			}
			if n.info("replication", "role") == "slave" {
				if st := n.info("replication", "master_link_status"); st != "up" {
					return fmt.Errorf("%s: master_link_status %q", n.Addr(), st)
				}
			}
		}
		return nil
	})
}

// PrimaryOf returns the live node that serves key's slot as a primary.
func (c *Cluster) PrimaryOf(key string) *RedisNode {
	c.t.Helper()
	n := c.primaryOf(key)
	if n == nil {
		c.t.Fatalf("enginetest: no cluster node names the primary of %q", key)
	}
	return n
}

// primaryOf is PrimaryOf, or nil while no live node names one (during a
// failover).
func (c *Cluster) primaryOf(key string) *RedisNode {
	c.t.Helper()
	for _, n := range c.Nodes {
		if n.Proc.Exited() {
			continue
		}
		cl := n.Client()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		slot, err := cl.ClusterKeySlot(ctx, key).Result()
		var shards []goredis.ClusterShard
		if err == nil {
			shards, err = cl.ClusterShards(ctx).Result()
		}
		cancel()
		_ = cl.Close()
		if err != nil {
			continue
		}
		for _, sh := range shards {
			for _, r := range sh.Slots {
				if r.Start > slot || slot > r.End {
					continue
				}
				for _, sn := range sh.Nodes {
					if sn.Role == "master" && sn.Health == "online" {
						return c.node(addr(int(sn.Port)))
					}
				}
			}
		}
	}
	return nil
}

func (c *Cluster) node(a string) *RedisNode {
	c.t.Helper()
	for _, n := range c.Nodes {
		if n.Addr() == a || strings.HasSuffix(a, ":"+strconv.Itoa(n.Port)) {
			return n
		}
	}
	c.t.Fatalf("enginetest: %s is none of the cluster's nodes", a)
	return nil
}

// WaitPromoted waits until a live node other than old serves key's slot as
// a primary and the cluster is ok again, and returns that node.
func (c *Cluster) WaitPromoted(old *RedisNode, key string, timeout time.Duration) *RedisNode {
	c.t.Helper()
	var promoted *RedisNode
	waitUntil(c.t, nil, "cluster failover of "+old.Addr(), timeout, func() error {
		for _, n := range c.Nodes {
			if n == old || n.Proc.Exited() || n.info("replication", "role") != "master" {
				continue
			}
			if n.clusterState() != "ok" {
				return fmt.Errorf("%s: cluster not ok yet", n.Addr())
			}
		}
		p := c.primaryOf(key)
		switch p {
		case nil:
			return errors.New("no live node names the slot's primary yet")
		case old:
			return errors.New("the old primary still serves the slot")
		}
		promoted = p
		return nil
	})
	return promoted
}

// clusterState returns the node's cluster_state (from CLUSTER INFO), or ""
// when it does not answer.
func (n *RedisNode) clusterState() string {
	c := n.Client()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(line, "cluster_state:"); ok {
			return v
		}
	}
	return ""
}
