package account

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/accountd/accountd/internal/security"
)

// Passkeys carries out the passkey use cases on top of a Service: a
// signed-in caller registers, lists and removes the account's passkeys, and
// anyone logs in with one, without a username. The WebAuthn cryptography is
// behind the WebAuthn interface; the rules (who may add, remove or use a
// passkey, counters, sessions) are here.
type Passkeys struct {
	svc        *Service
	store      PasskeyStore
	ceremonies Ceremonies
	webauthn   WebAuthn
}

// NewPasskeys returns the passkey use cases of svc, on the given store,
// ceremony state and WebAuthn relying party.
func NewPasskeys(svc *Service, store PasskeyStore, ceremonies Ceremonies, w WebAuthn) *Passkeys {
	return &Passkeys{svc: svc, store: store, ceremonies: ceremonies, webauthn: w}
}

// userHandleBytes is the size of a new WebAuthn user handle: 64 random
// bytes, as the WebAuthn specification recommends.
const userHandleBytes = 64

// Passkey names: what a caller may call a passkey, and what it is called
// when the caller gives no name.
const (
	MaxPasskeyNameLength = 64
	DefaultPasskeyName   = "Passkey"
)

// registrationCeremony is where the registration of the caller's session
// waits for its second step: one at a time per session, so a second begin
// replaces the first.
func registrationCeremony(p Principal) string {
	return "register:" + p.AccountUUID + ":" + p.SessionID
}

// BeginRegistration starts registering a passkey for the caller's account
// and returns the creation options for the browser. The ceremony waits
// PasskeyCeremonyTTL for FinishRegistration in the same session. A deleted
// account gives ErrInvalidToken and a disabled one ErrAccountDisabled.
func (k *Passkeys) BeginRegistration(ctx context.Context, p Principal) ([]byte, error) {
	u, err := k.user(ctx, p)
	if err != nil {
		return nil, err
	}
	c, err := k.webauthn.BeginRegistration(u)
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	if err := k.ceremonies.Put(ctx, registrationCeremony(p), c.State, PasskeyCeremonyTTL); err != nil {
		return nil, fmt.Errorf("keep passkey registration: %w", err)
	}
	return c.Options, nil
}

// FinishRegistration verifies the credential that the browser created
// (its JSON) and stores it as a passkey of the caller's account, called
// name (DefaultPasskeyName when empty). It returns a *ValidationError for a
// bad name, ErrNoCeremony when the session has no registration in
// progress, ErrInvalidPasskey when the credential does not verify and
// ErrPasskeyExists when it is registered already. The passkey_added event
// names the client c.
func (k *Passkeys) FinishRegistration(ctx context.Context, p Principal, name string, credential []byte, c Client) (Passkey, error) {
	name, err := passkeyName(name)
	if err != nil {
		return Passkey{}, err
	}
	state, err := k.ceremonies.Take(ctx, registrationCeremony(p))
	switch {
	case errors.Is(err, ErrNotFound):
		return Passkey{}, ErrNoCeremony
	case err != nil:
		return Passkey{}, fmt.Errorf("take passkey registration: %w", err)
	}
	u, err := k.user(ctx, p)
	if err != nil {
		return Passkey{}, err
	}
	pk, err := k.webauthn.FinishRegistration(u, state, credential)
	if err != nil {
		if errors.Is(err, ErrInvalidPasskey) {
			k.svc.log.LogAttrs(ctx, slog.LevelWarn, "passkey registration refused",
				slog.String("event", "passkey_refused"), slog.String("account_uuid", p.AccountUUID),
				slog.String("error", err.Error()))
		}
		return Passkey{}, fmt.Errorf("finish passkey registration: %w", err)
	}
	pk.AccountUUID, pk.Name, pk.CreatedAt, pk.LastUsedAt = p.AccountUUID, name, k.svc.cfg.Now(), time.Time{}
	switch err := k.store.Add(ctx, pk); {
	case errors.Is(err, ErrNotFound):
		return Passkey{}, ErrInvalidToken
	case err != nil:
		return Passkey{}, fmt.Errorf("add passkey: %w", err)
	}
	k.svc.log.LogAttrs(ctx, slog.LevelInfo, "passkey added", slog.String("event", "passkey_added"),
		slog.String("account_uuid", p.AccountUUID), slog.String("session_id", p.SessionID),
		slog.String("passkey_id", PasskeyID(pk.ID)))
	k.svc.record(ctx, k.svc.event(p.AccountUUID, EventPasskeyAdded, p.SessionID, c))
	return pk, nil
}

// List returns the caller's passkeys, oldest first.
func (k *Passkeys) List(ctx context.Context, p Principal) ([]Passkey, error) {
	list, err := k.store.ByAccount(ctx, p.AccountUUID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	return list, nil
}

// Delete removes the caller's passkey whose id (as PasskeyID spells it)
// is id. It returns ErrPasskeyNotFound when the caller has no such passkey.
// Sessions that the passkey started go on; the caller can end them. The
// passkey_removed event names the client c.
func (k *Passkeys) Delete(ctx context.Context, p Principal, id string, c Client) error {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) == 0 {
		return ErrPasskeyNotFound
	}
	switch err := k.store.Delete(ctx, p.AccountUUID, raw); {
	case errors.Is(err, ErrNotFound):
		return ErrPasskeyNotFound
	case err != nil:
		return fmt.Errorf("delete passkey: %w", err)
	}
	k.svc.log.LogAttrs(ctx, slog.LevelInfo, "passkey removed", slog.String("event", "passkey_removed"),
		slog.String("account_uuid", p.AccountUUID), slog.String("session_id", p.SessionID),
		slog.String("passkey_id", id))
	k.svc.record(ctx, k.svc.event(p.AccountUUID, EventPasskeyRemoved, p.SessionID, c))
	return nil
}

// PasskeyID spells a credential id as the API shows it: base64url without
// padding, as the browser's PublicKeyCredential.id does.
func PasskeyID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

// user returns the caller's account as a registration sees it, giving the
// account a user handle if it has none. A deleted account gives
// ErrInvalidToken and a disabled one ErrAccountDisabled.
func (k *Passkeys) user(ctx context.Context, p Principal) (PasskeyUser, error) {
	a, err := k.svc.current(ctx, p)
	if err != nil {
		return PasskeyUser{}, err
	}
	handle, err := k.store.UserHandle(ctx, a.UUID, security.RandomKey(userHandleBytes))
	switch {
	case errors.Is(err, ErrNotFound):
		return PasskeyUser{}, ErrInvalidToken
	case err != nil:
		return PasskeyUser{}, fmt.Errorf("find user handle: %w", err)
	}
	list, err := k.store.ByAccount(ctx, a.UUID)
	if err != nil {
		return PasskeyUser{}, fmt.Errorf("list passkeys: %w", err)
	}
	return PasskeyUser{Handle: handle, Name: a.AccountID, Passkeys: list}, nil
}

// passkeyName checks the name a caller gives a passkey: trimmed, at most
// MaxPasskeyNameLength characters, no control characters; empty means
// DefaultPasskeyName.
func passkeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	var v ValidationError
	switch {
	case name == "":
		return DefaultPasskeyName, nil
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		v.add("name", "string_pattern_mismatch", "String should contain no control characters")
	case utf8.RuneCountInString(name) > MaxPasskeyNameLength:
		v.add("name", "string_too_long", "String should have at most 64 characters")
	}
	return name, v.orNil()
}
