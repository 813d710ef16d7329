package account

import (
	"context"
	"errors"
	"time"
)

// Errors of passkeys; internal/http maps each to a status and a code.
var (
	// ErrInvalidPasskey is a created credential or an assertion that does
	// not verify, names an unknown passkey or the wrong account, or whose
	// signature counter did not grow (a replay or a cloned authenticator).
	ErrInvalidPasskey = errors.New("invalid passkey")
	// ErrNoCeremony is the second step of a passkey ceremony whose first
	// step is unknown: never begun, already finished, or older than
	// PasskeyCeremonyTTL.
	ErrNoCeremony = errors.New("no passkey ceremony in progress")
	// ErrPasskeyExists is a passkey registered a second time.
	ErrPasskeyExists = errors.New("passkey already registered")
	// ErrPasskeyNotFound is a passkey that the caller does not have.
	ErrPasskeyNotFound = errors.New("passkey not found")
)

// PasskeyCeremonyTTL is how long the first step of a passkey ceremony
// waits for its second: the browser is told the same timeout.
const PasskeyCeremonyTTL = 5 * time.Minute

// Passkey is a WebAuthn credential of an account: a key pair whose private
// half stays in the user's authenticator.
type Passkey struct {
	// ID is the credential id that the authenticator chose.
	ID          []byte
	AccountUUID string
	Name        string
	// PublicKey is the credential's public key, COSE-encoded.
	PublicKey []byte
	// SignCount is the authenticator's signature counter at the last use;
	// 0 for authenticators that keep none.
	SignCount uint32
	// AAGUID names the authenticator's model (all zero when it says none).
	AAGUID            []byte
	Transports        []string
	AttestationFormat string
	BackupEligible    bool
	BackupState       bool
	CreatedAt         time.Time
	// LastUsedAt is zero until the passkey is first used to log in.
	LastUsedAt time.Time
}

// PasskeyUser is an account as a WebAuthn ceremony sees it.
type PasskeyUser struct {
	// Handle is the account's WebAuthn user handle: random bytes, kept by
	// the authenticator beside the credential.
	Handle []byte
	// Name is shown by the authenticator: the account id.
	Name string
	// Passkeys are the account's passkeys (at login: the one being used).
	Passkeys []Passkey
}

// Ceremony is the first step of a WebAuthn ceremony.
type Ceremony struct {
	// Options are the JSON that the browser's navigator.credentials.create
	// or .get takes: {"publicKey": {...}}.
	Options []byte
	// State is what the second step checks the browser's answer against;
	// it is kept on the server, never sent.
	State []byte
}

// Assertion is what a verified login assertion reports.
type Assertion struct {
	// ID is the credential id of the passkey used.
	ID []byte
	// SignCount is the authenticator's signature counter now.
	SignCount   uint32
	BackupState bool
}

// WebAuthn runs the cryptographic half of WebAuthn ceremonies for the
// relying party that accountd is. Registration always asks for a
// discoverable credential and login for user verification.
type WebAuthn interface {
	// BeginRegistration starts registering a passkey for u; the options
	// exclude u.Passkeys, which the authenticator holds already.
	BeginRegistration(u PasskeyUser) (Ceremony, error)
	// FinishRegistration verifies the JSON of the credential that the
	// browser created against state and returns the passkey to store
	// (without AccountUUID, Name and CreatedAt). It returns
	// ErrInvalidPasskey when the credential does not verify.
	FinishRegistration(u PasskeyUser, state, credential []byte) (Passkey, error)
	// BeginLogin starts a login with any passkey of this relying party
	// (no username: the authenticator offers its discoverable ones).
	BeginLogin() (Ceremony, error)
	// FinishLogin verifies the JSON of an assertion against state and the
	// user that find returns for the assertion's credential id and user
	// handle. It returns ErrInvalidPasskey when the assertion does not
	// verify, and find's own errors as find returned them.
	FinishLogin(state, assertion []byte, find func(id, userHandle []byte) (PasskeyUser, error)) (Assertion, error)
}

// PasskeyOwner is a passkey with its account's user handle.
type PasskeyOwner struct {
	Passkey    Passkey
	UserHandle []byte
}

// PasskeyUse records a login with a passkey.
type PasskeyUse struct {
	ID []byte
	// SignCount must be above the stored count, unless both are 0.
	SignCount   uint32
	BackupState bool
	Now         time.Time
}

// PasskeyStore keeps passkeys and the WebAuthn user handle of accounts.
type PasskeyStore interface {
	// UserHandle returns the account's user handle, storing newHandle as
	// the handle when the account has none yet. It returns ErrNotFound when
	// the account does not exist.
	UserHandle(ctx context.Context, accountUUID string, newHandle []byte) ([]byte, error)
	// ByAccount lists the account's passkeys, oldest first.
	ByAccount(ctx context.Context, accountUUID string) ([]Passkey, error)
	// ByID finds a passkey by its credential id, with its account's user
	// handle. It returns ErrNotFound when there is none.
	ByID(ctx context.Context, id []byte) (PasskeyOwner, error)
	// Add stores a new passkey. It returns ErrPasskeyExists when a passkey
	// with its id exists (of any account), and ErrNotFound when its
	// account does not exist.
	Add(ctx context.Context, p Passkey) error
	// Use stores a passkey's new signature counter and backup state and
	// when it was used, atomically, only if u.SignCount is above the
	// stored count or both are 0. It returns ErrNotFound when there is no
	// such passkey or its counter is not below u.SignCount.
	Use(ctx context.Context, u PasskeyUse) error
	// Delete removes one passkey of the account. It returns ErrNotFound
	// when the account has no such passkey.
	Delete(ctx context.Context, accountUUID string, id []byte) error
}

// Ceremonies keeps the state of WebAuthn ceremonies between their two
// steps, shared by every instance.
type Ceremonies interface {
	// Put keeps state under key for ttl, replacing what key held.
	Put(ctx context.Context, key string, state []byte, ttl time.Duration) error
	// Take returns the state under key and forgets it, atomically, so that
	// a ceremony finishes at most once. It returns ErrNotFound when key
	// holds nothing (never put, taken, or expired).
	Take(ctx context.Context, key string) ([]byte, error)
}
