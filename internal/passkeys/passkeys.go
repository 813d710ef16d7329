// Package passkeys is accountd's WebAuthn relying party: it runs the
// cryptographic half of registering and using passkeys with go-webauthn,
// behind the account.WebAuthn interface, so that the domain never sees the
// library and the library never sees the domain's rules.
package passkeys

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/accountd/accountd/internal/account"
)

// Config describes the relying party.
type Config struct {
	// RPID is the relying party id: the domain that passkeys are bound to
	// (WEBAUTHN_RP_ID), e.g. example.com; every origin must be it or a
	// subdomain of it.
	RPID string
	// RPName is shown by authenticators (WEBAUTHN_RP_NAME).
	RPName string
	// Origins are the web origins that ceremonies may come from
	// (WEBAUTHN_ORIGINS), e.g. https://app.example.com.
	Origins []string
	// Timeout is how long the browser is told a ceremony may take; the
	// server forgets a ceremony after account.PasskeyCeremonyTTL anyway.
	Timeout time.Duration
}

// RelyingParty implements account.WebAuthn with go-webauthn: discoverable
// credentials (resident keys required), user verification required, no
// attestation asked for.
type RelyingParty struct {
	w *webauthn.WebAuthn
}

var _ account.WebAuthn = (*RelyingParty)(nil)

// New returns the relying party that c describes, or an error that says
// what is wrong with c.
func New(c Config) (*RelyingParty, error) {
	timeout := webauthn.TimeoutConfig{Timeout: c.Timeout, TimeoutUVD: c.Timeout}
	w, err := webauthn.New(&webauthn.Config{
		RPID: c.RPID, RPDisplayName: c.RPName, RPOrigins: c.Origins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		// The ceremony store's expiry ends ceremonies, by one clock for
		// every instance; the library's own check is left off.
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn relying party: %w", err)
	}
	return &RelyingParty{w: w}, nil
}

// BeginRegistration starts registering a passkey for u, excluding the
// credentials u has.
func (rp *RelyingParty) BeginRegistration(u account.PasskeyUser) (account.Ceremony, error) {
	wu := user{u}
	exclude := webauthn.Credentials(wu.WebAuthnCredentials()).CredentialDescriptors()
	creation, session, err := rp.w.BeginRegistration(wu, webauthn.WithExclusions(exclude))
	if err != nil {
		return account.Ceremony{}, err
	}
	return ceremony(creation, session)
}

// FinishRegistration verifies the JSON of a created credential against the
// state that BeginRegistration made for u. It returns
// account.ErrInvalidPasskey, with the library's reason, when it does not
// verify.
func (rp *RelyingParty) FinishRegistration(u account.PasskeyUser, state, credential []byte) (account.Passkey, error) {
	session, err := sessionOf(state)
	if err != nil {
		return account.Passkey{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return account.Passkey{}, refused(err)
	}
	c, err := rp.w.CreateCredential(user{u}, session, parsed)
	if err != nil {
		return account.Passkey{}, refused(err)
	}
	transports := make([]string, len(c.Transport))
	for i, t := range c.Transport {
		transports[i] = string(t)
	}
	return account.Passkey{
		ID: c.ID, PublicKey: c.PublicKey, SignCount: c.Authenticator.SignCount, AAGUID: c.Authenticator.AAGUID,
		Transports: transports, AttestationFormat: c.AttestationFormat,
		BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState,
	}, nil
}

// BeginLogin starts a login with any discoverable passkey of the relying
// party, with user verification.
func (rp *RelyingParty) BeginLogin() (account.Ceremony, error) {
	assertion, session, err := rp.w.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return account.Ceremony{}, err
	}
	return ceremony(assertion, session)
}

// FinishLogin verifies the JSON of an assertion against the state that
// BeginLogin made and the user that find returns. It reports the signature
// counter as the authenticator sent it: the caller applies the counter
// rule. It returns find's errors as they are, and account.ErrInvalidPasskey
// when the assertion does not verify.
func (rp *RelyingParty) FinishLogin(state, assertion []byte, find func(id, userHandle []byte) (account.PasskeyUser, error)) (account.Assertion, error) {
	session, err := sessionOf(state)
	if err != nil {
		return account.Assertion{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(assertion)
	if err != nil {
		return account.Assertion{}, refused(err)
	}
	var findErr error
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		u, err := find(rawID, userHandle)
		if err != nil {
			findErr = err
			return nil, err
		}
		return user{u}, nil
	}
	_, c, err := rp.w.ValidatePasskeyLogin(handler, session, parsed)
	switch {
	case findErr != nil:
		return account.Assertion{}, findErr
	case err != nil:
		return account.Assertion{}, refused(err)
	}
	data := parsed.Response.AuthenticatorData
	return account.Assertion{ID: c.ID, SignCount: data.Counter, BackupState: data.Flags.HasBackupState()}, nil
}

// ceremony encodes the options for the browser and the state to keep.
func ceremony(options any, session *webauthn.SessionData) (account.Ceremony, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return account.Ceremony{}, fmt.Errorf("encode webauthn options: %w", err)
	}
	s, err := json.Marshal(session)
	if err != nil {
		return account.Ceremony{}, fmt.Errorf("encode webauthn session: %w", err)
	}
	return account.Ceremony{Options: o, State: s}, nil
}

func sessionOf(state []byte) (webauthn.SessionData, error) {
	var s webauthn.SessionData
	if err := json.Unmarshal(state, &s); err != nil {
		return webauthn.SessionData{}, fmt.Errorf("decode webauthn session: %w", err)
	}
	return s, nil
}

// refused wraps the library's reason for refusing a credential or an
// assertion in account.ErrInvalidPasskey.
func refused(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return fmt.Errorf("%w: %s (%s)", account.ErrInvalidPasskey, pe.Details, pe.DevInfo)
	}
	return fmt.Errorf("%w: %w", account.ErrInvalidPasskey, err)
}

// user is an account as go-webauthn sees it.
type user struct{ account.PasskeyUser }

func (u user) WebAuthnID() []byte          { return u.Handle }
func (u user) WebAuthnName() string        { return u.Name }
func (u user) WebAuthnDisplayName() string { return u.Name }

// WebAuthnCredentials returns the account's passkeys as credential records.
func (u user) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(u.Passkeys))
	for i, p := range u.Passkeys {
		transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
		for j, t := range p.Transports {
			transports[j] = protocol.AuthenticatorTransport(t)
		}
		out[i] = webauthn.Credential{
			ID: p.ID, PublicKey: p.PublicKey, AttestationFormat: p.AttestationFormat, Transport: transports,
			Flags: webauthn.CredentialFlags{
				UserPresent: true, UserVerified: true, BackupEligible: p.BackupEligible, BackupState: p.BackupState,
			},
			Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
		}
	}
	return out
}
