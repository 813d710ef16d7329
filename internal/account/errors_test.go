package account

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// Unavailable and Canceled are the one classification of failures that are
// not bugs; adapters wrap their drivers' failures in ErrUnavailable and keep
// the cause, so a cancelled context is still told apart.
func TestUnavailableAndCanceled(t *testing.T) {
	cases := []struct {
		name                  string
		err                   error
		unavailable, canceled bool
	}{
		{"nil", nil, false, false},
		{"a bug", errors.New("boom"), false, false},
		{"a domain refusal", fmt.Errorf("login: %w", ErrInvalidCredentials), false, false},
		{"ErrUnavailable", fmt.Errorf("ping redis: %w: %w", ErrUnavailable, errors.New("connection refused")), true, false},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), true, false},
		{"cancelled", fmt.Errorf("acquire: %w", context.Canceled), true, true},
		{"cancelled, as an adapter wraps it", fmt.Errorf("create account: %w: %w", ErrUnavailable, context.Canceled), true, true},
	}
	for _, c := range cases {
		if got := Unavailable(c.err); got != c.unavailable {
			t.Errorf("%s: Unavailable = %v, want %v", c.name, got, c.unavailable)
		}
		if got := Canceled(c.err); got != c.canceled {
			t.Errorf("%s: Canceled = %v, want %v", c.name, got, c.canceled)
		}
	}
	if got := loginOutcome(fmt.Errorf("x: %w", context.Canceled)); got != LoginUnavailable {
		t.Errorf("loginOutcome(cancelled) = %q, want %q", got, LoginUnavailable)
	}
}
