package account

import (
	"context"
	"fmt"
)

// Introspection is what RFC 7662 introspection tells a resource server of
// an active access token.
type Introspection struct {
	Principal
	// Username is the account id.
	Username string
	Issuer   string
	Audience string // "" when tokens carry none
}

// Introspect checks an access token as /me does, on the same in-memory
// path (the verified-token cache, the revocation view, the profile cache),
// and describes it. It returns the errors of Authenticate: a token that is
// anything but active gives an error.
func (s *Service) Introspect(ctx context.Context, token string) (Introspection, error) {
	p, err := s.authenticate(ctx, token)
	if err != nil {
		return Introspection{}, err
	}
	a, err := s.Profile(ctx, p)
	if err != nil {
		return Introspection{}, fmt.Errorf("introspect: %w", err)
	}
	return Introspection{Principal: p, Username: a.AccountID, Issuer: s.tokens.Issuer(), Audience: s.tokens.Audience()}, nil
}
