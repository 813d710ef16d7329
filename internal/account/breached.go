package account

import (
	"context"
	"fmt"
)

// BreachedPasswords is a list of passwords known from breaches, which new
// passwords must not be.
type BreachedPasswords interface {
	// Contains reports whether password is in the list. It returns an error
	// only when the list could not be read.
	Contains(ctx context.Context, password string) (bool, error)
}

// checkBreached returns a *ValidationError with code password_breached,
// located at field, when password is in the list of breached passwords
// (none when cfg.Breached is nil).
func (s *Service) checkBreached(ctx context.Context, field, password string) error {
	if s.cfg.Breached == nil {
		return nil
	}
	listed, err := s.cfg.Breached.Contains(ctx, password)
	if err != nil {
		return fmt.Errorf("check breached passwords: %w", err)
	}
	if !listed {
		return nil
	}
	v := ValidationError{Code: CodePasswordBreached}
	v.add(field, CodePasswordBreached, "This password has appeared in a data breach; choose another one")
	return &v
}
