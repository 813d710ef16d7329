package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// privateRedis is a redis-server of the benchmark's own, which it restarts.
type privateRedis struct {
	url, addr, port string
	proc            *process
}

func startPrivateRedis(ctx context.Context) (*privateRedis, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	r := &privateRedis{url: "redis://" + addr + "/0", addr: addr, port: addr[strings.LastIndex(addr, ":")+1:]}
	return r, r.start(ctx)
}

// start starts the server, empty, and waits until it answers.
func (r *privateRedis) start(ctx context.Context) error {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("redis-server is not installed (run make services): %w", err)
	}
	r.proc, err = startProcess(ctx, "redis-server", path, []string{"--port", r.port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning"}, nil, "")
	if err != nil {
		return err
	}
	c := goredis.NewClient(&goredis.Options{Addr: r.addr})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(ctx).Err() != nil; {
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer within 10s", r.addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func (r *privateRedis) stop() { r.proc.Stop(5 * time.Second) }
