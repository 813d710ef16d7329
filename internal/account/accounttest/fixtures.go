package accounttest

import (
	"testing"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/security"
)

// Password is the password of the accounts that AddAccount makes, and
// PasswordHash its bcrypt hash at the cost of NewService's hasher. The hash
// is computed once, here, because bcrypt is what makes these tests slow
// (under the race detector, tens of milliseconds for each hash).
const (
	Password = "correct horse battery"
	//nolint:gosec // G101: the hash of a test password
	PasswordHash = "$2a$04$RX7WyTV4RnLLvm0vHdS0W.Y/.kTeuAeDVtf0KKz5VZ8PBVQiw8.7m"
)

// TestClient is the client that the helpers here log in from.
var TestClient = account.Client{IPAddress: "192.0.2.1", UserAgent: "accounttest"}

// AddAccount stores an account whose password is Password, as Register
// would, without running bcrypt.
func (s *Service) AddAccount(t testing.TB, accountID string) account.Account {
	t.Helper()
	a, err := s.AccountStore.Create(t.Context(), account.NewAccount{
		AccountID: accountID, PasswordHash: PasswordHash, CreatedAt: s.Clock.Now(),
	})
	if err != nil {
		t.Fatalf("add account %q: %v", accountID, err)
	}
	return a
}

// StartSession starts a session of the account, as a login with the right
// password would, without running bcrypt, and returns its tokens.
func (s *Service) StartSession(t testing.TB, accountUUID string) account.Tokens {
	t.Helper()
	a, err := s.AccountStore.ByUUID(t.Context(), accountUUID)
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	now := s.Clock.Now()
	id, refresh := security.NewID(), security.NewRefreshToken()
	err = s.SessionStore.Create(t.Context(), account.NewSession{
		ID: id, AccountUUID: a.UUID, PasswordHash: a.PasswordHash, TokenHash: security.HashToken(refresh),
		Client: TestClient, CreatedAt: now, ExpiresAt: now.Add(s.refreshTTL),
	})
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	access, _, err := s.JWT.Issue(a.UUID, id)
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	return account.Tokens{
		AccessToken: access, AccessExpiresIn: s.JWT.TTL(), RefreshToken: refresh,
		RefreshExpiresIn: s.refreshTTL, SessionID: id, AccountUUID: a.UUID,
	}
}

// MustRegister registers an account through the Service and fails the test
// if it cannot.
func (s *Service) MustRegister(t testing.TB, accountID, password string) account.Account {
	t.Helper()
	a, err := s.Register(t.Context(), accountID, password, TestClient)
	if err != nil {
		t.Fatalf("Register(%q): %v", accountID, err)
	}
	return a
}

// MustLogin logs in through the Service and fails the test if it cannot.
func (s *Service) MustLogin(t testing.TB, accountID, password string) account.Tokens {
	t.Helper()
	tokens, err := s.Login(t.Context(), accountID, password, TestClient)
	if err != nil {
		t.Fatalf("Login(%q): %v", accountID, err)
	}
	return tokens
}

// Principal is the caller that tokens name.
func Principal(tokens account.Tokens) account.Principal {
	return account.Principal{AccountUUID: tokens.AccountUUID, SessionID: tokens.SessionID}
}
