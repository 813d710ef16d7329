package account

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"github.com/accountd/accountd/internal/security"
)

// loginCeremony is where a login ceremony waits for its second step: under
// the hash of its id, so that what Redis holds cannot finish it.
func loginCeremony(id string) string {
	return "login:" + hex.EncodeToString(security.HashToken(id))
}

// BeginLogin starts a login with a passkey, for a caller not yet known. It
// returns the request options for the browser and the ceremony's id, a
// random secret that FinishLogin must be given within PasskeyCeremonyTTL
// (the HTTP layer keeps it in an HttpOnly cookie, which ties the ceremony
// to the browser that began it).
func (k *Passkeys) BeginLogin(ctx context.Context) (options []byte, ceremonyID string, err error) {
	c, err := k.webauthn.BeginLogin()
	if err != nil {
		return nil, "", fmt.Errorf("begin passkey login: %w", err)
	}
	id := security.NewRefreshToken()
	if err := k.ceremonies.Put(ctx, loginCeremony(id), c.State, PasskeyCeremonyTTL); err != nil {
		return nil, "", fmt.Errorf("keep passkey login: %w", err)
	}
	return c.Options, id, nil
}

// FinishLogin verifies an assertion (its JSON, from the browser) for the
// ceremony ceremonyID and starts a session of the passkey's account, with
// amr ["hwk"]. Each ceremony finishes at most once, right or wrong. It
// returns ErrNoCeremony for an unknown or used ceremony, ErrInvalidPasskey
// when the assertion does not verify, names an unknown passkey, carries a
// user handle that is not its account's, or a signature counter that did
// not grow; ErrAccountDisabled when the account is disabled.
func (k *Passkeys) FinishLogin(ctx context.Context, ceremonyID string, assertion []byte, c Client) (_ Tokens, err error) {
	defer func() { k.svc.observer().Login(loginOutcome(err)) }()
	if ceremonyID == "" {
		return Tokens{}, ErrNoCeremony
	}
	state, err := k.ceremonies.Take(ctx, loginCeremony(ceremonyID))
	switch {
	case errors.Is(err, ErrNotFound):
		return Tokens{}, ErrNoCeremony
	case err != nil:
		return Tokens{}, fmt.Errorf("take passkey login: %w", err)
	}
	var owner PasskeyOwner
	find := func(id, userHandle []byte) (PasskeyUser, error) {
		o, err := k.store.ByID(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			return PasskeyUser{}, fmt.Errorf("%w: unknown credential", ErrInvalidPasskey)
		case err != nil:
			return PasskeyUser{}, fmt.Errorf("find passkey: %w", err)
		case !bytes.Equal(o.UserHandle, userHandle):
			// The authenticator says the credential belongs to another
			// account than the one it was registered to.
			return PasskeyUser{}, fmt.Errorf("%w: user handle is not the credential's account's", ErrInvalidPasskey)
		}
		owner = o
		return PasskeyUser{Handle: o.UserHandle, Passkeys: []Passkey{o.Passkey}}, nil
	}
	as, err := k.webauthn.FinishLogin(state, assertion, find)
	if err != nil {
		k.refused(ctx, owner, c, err)
		return Tokens{}, fmt.Errorf("finish passkey login: %w", err)
	}
	if !counterGrew(owner.Passkey.SignCount, as.SignCount) {
		err := fmt.Errorf("%w: signature counter %d after %d", ErrInvalidPasskey, as.SignCount, owner.Passkey.SignCount)
		k.refused(ctx, owner, c, err)
		return Tokens{}, err
	}
	use := PasskeyUse{ID: owner.Passkey.ID, SignCount: as.SignCount, BackupState: as.BackupState, Now: k.svc.cfg.Now()}
	switch err := k.store.Use(ctx, use); {
	case errors.Is(err, ErrNotFound):
		// Removed meanwhile, or a racing login with the same counter won.
		err = fmt.Errorf("%w: passkey removed or its counter moved meanwhile", ErrInvalidPasskey)
		k.refused(ctx, owner, c, err)
		return Tokens{}, err
	case err != nil:
		return Tokens{}, fmt.Errorf("record passkey use: %w", err)
	}
	t, err := k.startSession(ctx, owner.Passkey.AccountUUID, c)
	if err != nil {
		return Tokens{}, err
	}
	k.svc.log.LogAttrs(ctx, slog.LevelInfo, "passkey login", slog.String("event", "passkey_login"),
		slog.String("account_uuid", t.AccountUUID), slog.String("session_id", t.SessionID),
		slog.String("passkey_id", PasskeyID(owner.Passkey.ID)), slog.String("client_ip", c.IPAddress))
	return t, nil
}

// counterGrew applies WebAuthn's signature counter rule: once either count
// is not 0, the new one must be above the stored one, or the assertion is
// a replay or comes from a clone of the authenticator.
func counterGrew(stored, now uint32) bool {
	return (stored == 0 && now == 0) || now > stored
}

// sessionAttempts bounds how often a passkey login re-reads an account
// whose password hash changed between the read and the session's start.
const sessionAttempts = 3

// startSession starts a passkey session of the account. The session store
// starts it only while the hash read here is still the account's (so that
// a login racing a password change cannot outlive the change's revocation
// of every other session); a passkey does not depend on the password, so a
// change that won the race only makes it read the account again.
func (k *Passkeys) startSession(ctx context.Context, accountUUID string, c Client) (Tokens, error) {
	for range sessionAttempts {
		a, err := k.svc.accounts.ByUUID(ctx, accountUUID)
		switch {
		case errors.Is(err, ErrNotFound):
			return Tokens{}, fmt.Errorf("%w: account deleted", ErrInvalidPasskey)
		case err != nil:
			return Tokens{}, fmt.Errorf("find account: %w", err)
		case a.Disabled:
			return Tokens{}, ErrAccountDisabled
		}
		t, err := k.svc.startSession(ctx, a, c, []string{MethodPasskey})
		if !errors.Is(err, ErrInvalidCredentials) {
			return t, err
		}
	}
	return Tokens{}, fmt.Errorf("%w: the account kept changing during a passkey login", ErrUnavailable)
}

// refused logs a passkey login that failed for a reason of the caller's
// making, and records login_failed in the history of the passkey's account
// when the assertion named a known passkey.
func (k *Passkeys) refused(ctx context.Context, owner PasskeyOwner, c Client, err error) {
	if !errors.Is(err, ErrInvalidPasskey) {
		return
	}
	k.svc.log.LogAttrs(ctx, slog.LevelWarn, "passkey login failed", slog.String("event", "login_failed"),
		slog.String("method", "passkey"), slog.String("account_uuid", owner.Passkey.AccountUUID),
		slog.String("client_ip", c.IPAddress), slog.String("error", err.Error()))
	if owner.Passkey.AccountUUID != "" {
		k.svc.record(ctx, k.svc.event(owner.Passkey.AccountUUID, EventLoginFailed, "", c))
	}
}
