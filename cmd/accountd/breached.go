package main

import (
	"fmt"
	"log/slog"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/breached"
	"github.com/accountd/accountd/internal/config"
)

// openBreached opens BREACHED_PASSWORDS_FILE, checking that it is a sorted
// list, when it is set; the list is nil (the check is off) when it is not.
// The returned func closes it.
func openBreached(cfg config.Config, log *slog.Logger) (account.BreachedPasswords, func(), error) {
	if cfg.BreachedPasswordsFile == "" {
		return nil, func() {}, nil
	}
	l, err := breached.Open(cfg.BreachedPasswordsFile)
	if err != nil {
		return nil, nil, fmt.Errorf("BREACHED_PASSWORDS_FILE: %w", err)
	}
	log.Info("refusing breached passwords", slog.String("file", cfg.BreachedPasswordsFile))
	return l, func() { _ = l.Close() }, nil
}
