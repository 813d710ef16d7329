package main

import (
	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/config"
)

// limits turns the rate-limit settings into the service's Limits.
func limits(cfg config.Config) account.Limits {
	return account.Limits{
		PerIP:         account.PerWindow(cfg.RateLimitIPRequests, cfg.RateLimitIPWindow),
		LoginFailures: account.LockoutAfter(cfg.LoginMaxFailures, cfg.LoginFailureWindow),
	}
}
