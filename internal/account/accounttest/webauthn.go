package accounttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/security"
)

// WebAuthn is a fake account.WebAuthn without cryptography that checks what
// the domain relies on: the challenge of the ceremony, the user a
// registration is for, the passkeys a login may use. Options are
// {"publicKey": {"challenge": "...", "user": {"id": handle}}}, the state is
// the challenge, and what the browser would send back is the JSON that
// Credential.For makes.
type WebAuthn struct{}

var _ account.WebAuthn = WebAuthn{}

// fakeOptions is the options a WebAuthn hands out.
type fakeOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		User      *struct {
			ID []byte `json:"id"`
		} `json:"user,omitempty"`
		Exclude [][]byte `json:"excludeCredentials,omitempty"`
	} `json:"publicKey"`
}

// Credential is what a fake authenticator answers a ceremony with.
type Credential struct {
	ID         []byte `json:"id"`
	UserHandle []byte `json:"userHandle"`
	SignCount  uint32 `json:"signCount"`
	// Invalid makes the answer one that does not verify, as a bad
	// signature would.
	Invalid   bool   `json:"invalid"`
	Challenge string `json:"challenge"`
}

// For returns the JSON that answers the ceremony whose options are given.
func (c Credential) For(options []byte) []byte {
	var o fakeOptions
	if err := json.Unmarshal(options, &o); err != nil {
		panic(fmt.Sprintf("accounttest: options are not a fake's: %v", err))
	}
	c.Challenge = o.PublicKey.Challenge
	data, _ := json.Marshal(c)
	return data
}

func newChallenge(u *account.PasskeyUser) account.Ceremony {
	var o fakeOptions
	o.PublicKey.Challenge = security.NewRefreshToken()
	if u != nil {
		o.PublicKey.User = &struct {
			ID []byte `json:"id"`
		}{ID: u.Handle}
		for _, p := range u.Passkeys {
			o.PublicKey.Exclude = append(o.PublicKey.Exclude, p.ID)
		}
	}
	options, _ := json.Marshal(o)
	return account.Ceremony{Options: options, State: []byte(o.PublicKey.Challenge)}
}

// answer parses a Credential and checks it answers the challenge in state.
func answer(state, data []byte) (Credential, error) {
	var c Credential
	if err := json.Unmarshal(data, &c); err != nil {
		return Credential{}, fmt.Errorf("%w: %w", account.ErrInvalidPasskey, err)
	}
	if c.Invalid || c.Challenge != string(state) || len(c.ID) == 0 {
		return Credential{}, fmt.Errorf("%w: does not verify", account.ErrInvalidPasskey)
	}
	return c, nil
}

// BeginRegistration starts a registration for u.
func (WebAuthn) BeginRegistration(u account.PasskeyUser) (account.Ceremony, error) {
	return newChallenge(&u), nil
}

// FinishRegistration checks the credential against the challenge and u:
// its user handle must be u's and its id none of u's passkeys.
func (WebAuthn) FinishRegistration(u account.PasskeyUser, state, credential []byte) (account.Passkey, error) {
	c, err := answer(state, credential)
	if err != nil {
		return account.Passkey{}, err
	}
	if !bytes.Equal(c.UserHandle, u.Handle) ||
		slices.ContainsFunc(u.Passkeys, func(p account.Passkey) bool { return bytes.Equal(p.ID, c.ID) }) {
		return account.Passkey{}, fmt.Errorf("%w: wrong user or excluded credential", account.ErrInvalidPasskey)
	}
	return account.Passkey{
		ID: c.ID, PublicKey: append([]byte("public-key-"), c.ID...), SignCount: c.SignCount,
		AAGUID: make([]byte, 16), Transports: []string{"internal"}, AttestationFormat: "none",
	}, nil
}

// BeginLogin starts a login without a username.
func (WebAuthn) BeginLogin() (account.Ceremony, error) { return newChallenge(nil), nil }

// FinishLogin checks the assertion against the challenge and the user that
// find returns, which must hold the passkey.
func (WebAuthn) FinishLogin(state, assertion []byte, find func(id, userHandle []byte) (account.PasskeyUser, error)) (account.Assertion, error) {
	var c Credential
	if err := json.Unmarshal(assertion, &c); err != nil {
		return account.Assertion{}, fmt.Errorf("%w: %w", account.ErrInvalidPasskey, err)
	}
	u, err := find(c.ID, c.UserHandle)
	if err != nil {
		return account.Assertion{}, err
	}
	if _, err := answer(state, assertion); err != nil {
		return account.Assertion{}, err
	}
	if !slices.ContainsFunc(u.Passkeys, func(p account.Passkey) bool { return bytes.Equal(p.ID, c.ID) }) {
		return account.Assertion{}, fmt.Errorf("%w: not the user's credential", account.ErrInvalidPasskey)
	}
	return account.Assertion{ID: c.ID, SignCount: c.SignCount}, nil
}

// HandleIn returns the user handle that registration options carry.
func HandleIn(options []byte) []byte {
	var o fakeOptions
	_ = json.Unmarshal(options, &o)
	if o.PublicKey.User == nil {
		return nil
	}
	return o.PublicKey.User.ID
}
