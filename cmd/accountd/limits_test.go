package main

import (
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/config"
)

func TestLimitsFromConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := account.Limits{
		PerIP:         account.Limit{Burst: 60, Interval: time.Second},
		LoginFailures: account.Limit{Burst: 5, Interval: 15 * time.Minute},
	}
	if got := limits(cfg); got != want {
		t.Fatalf("limits(defaults) = %+v, want %+v", got, want)
	}
	cfg.RateLimitIPRequests, cfg.LoginMaxFailures = 0, 0
	if got := limits(cfg); !got.PerIP.Off() || !got.LoginFailures.Off() {
		t.Fatalf("limits with counts of 0 = %+v, want both off", got)
	}
}
