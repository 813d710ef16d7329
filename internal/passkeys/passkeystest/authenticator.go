// Package passkeystest is a software WebAuthn authenticator and client for
// tests: it answers the options that accountd hands out as a browser with a
// platform authenticator would (ES256 keys, "none" attestation,
// discoverable credentials, user verification, a signature counter), so
// that Go tests can register passkeys and log in with them without a
// browser. The Chromium test proves the same flow with a real one.
package passkeystest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator holds discoverable credentials and answers ceremonies as a
// browser at Origin would. It is safe for concurrent use.
type Authenticator struct {
	// Origin is the web origin the ceremonies come from, e.g.
	// http://localhost:8000.
	Origin string

	mu    sync.Mutex
	creds []*credential
}

type credential struct {
	id         []byte
	rpID       string
	userHandle []byte
	key        *ecdsa.PrivateKey
	count      uint32
}

// New returns an Authenticator without credentials for origin.
func New(origin string) *Authenticator { return &Authenticator{Origin: origin} }

var b64 = base64.RawURLEncoding

// credentialIDBytes is the size of the credential ids this authenticator
// makes.
const credentialIDBytes = 32

// flags of authenticator data.
const (
	flagUserPresent  = 0x01
	flagUserVerified = 0x04
	flagAttested     = 0x40
)

// creationOptions is what this client reads of creation options.
type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Exclude []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
	} `json:"publicKey"`
}

// Create answers creation options (the JSON of {"publicKey": ...}) as
// navigator.credentials.create would, and returns the created credential
// as the JSON that PublicKeyCredential.toJSON makes. It refuses, as
// authenticators do, when it holds an excluded credential.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("creation options: %w", err)
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, fmt.Errorf("user id: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range o.PublicKey.Exclude {
		for _, c := range a.creds {
			if x.ID == b64.EncodeToString(c.id) {
				return nil, errors.New("InvalidStateError: the authenticator holds an excluded credential")
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	c := &credential{id: randomBytes(credentialIDBytes), rpID: o.PublicKey.RP.ID, userHandle: handle, key: key}
	cose, err := coseKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	attested := make([]byte, 0, 16+2+len(c.id)+len(cose))
	attested = append(attested, make([]byte, 16)...) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, credentialIDBytes)
	attested = append(attested, c.id...)
	attested = append(attested, cose...)
	authData := authenticatorData(c.rpID, flagUserPresent|flagUserVerified|flagAttested, c.count, attested)
	attestation, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		return nil, err
	}
	a.creds = append(a.creds, c)
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.id), "rawId": b64.EncodeToString(c.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(attestation),
			"transports":        []string{"internal"},
		},
	})
}

// Tamper changes an assertion before it is signed, for tests of what the
// server refuses.
type Tamper struct {
	// UserHandle replaces the credential's user handle.
	UserHandle []byte
	// Count, when not nil, is reported instead of the next counter value
	// (the stored counter does not move).
	Count *uint32
	// Origin replaces the Authenticator's origin.
	Origin string
	// BadSignature makes the signature one that does not verify.
	BadSignature bool
}

// requestOptions is what this client reads of request options.
type requestOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
	} `json:"publicKey"`
}

// Get answers request options as navigator.credentials.get would with no
// allowCredentials: with the newest credential for the relying party. It
// returns the assertion as the JSON that PublicKeyCredential.toJSON makes.
func (a *Authenticator) Get(options []byte) ([]byte, error) { return a.GetTampered(options, Tamper{}) }

// GetTampered answers request options like Get, changed as t says.
func (a *Authenticator) GetTampered(options []byte, t Tamper) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("request options: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var c *credential
	for _, x := range a.creds {
		if x.rpID == o.PublicKey.RPID {
			c = x
		}
	}
	if c == nil {
		return nil, errors.New("NotAllowedError: no credential for the relying party")
	}
	count := c.count + 1
	if t.Count != nil {
		count = *t.Count
	} else {
		c.count = count
	}
	authData := authenticatorData(c.rpID, flagUserPresent|flagUserVerified, count, nil)
	origin := a.Origin
	if t.Origin != "" {
		origin = t.Origin
	}
	clientData := clientDataJSON("webauthn.get", o.PublicKey.Challenge, origin)
	hash := sha256.Sum256(clientData)
	signed := sha256.Sum256(append(bytes.Clone(authData), hash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, signed[:])
	if err != nil {
		return nil, err
	}
	if t.BadSignature {
		sig[len(sig)-1] ^= 0xff
	}
	handle := c.userHandle
	if t.UserHandle != nil {
		handle = t.UserHandle
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.id), "rawId": b64.EncodeToString(c.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"authenticatorData": b64.EncodeToString(authData),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(handle),
		},
	})
}

// CredentialID returns the id of the newest credential, base64url-encoded
// as the API shows it, or "" when there is none.
func (a *Authenticator) CredentialID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.creds) == 0 {
		return ""
	}
	return b64.EncodeToString(a.creds[len(a.creds)-1].id)
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	return clientDataJSON(typ, challenge, a.Origin)
}

func clientDataJSON(typ, challenge, origin string) []byte {
	data, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return data
}

// authenticatorData is rpIdHash | flags | signCount | attested credential.
func authenticatorData(rpID string, flags byte, count uint32, attested []byte) []byte {
	rpHash := sha256.Sum256([]byte(rpID))
	out := append(rpHash[:], flags)
	out = binary.BigEndian.AppendUint32(out, count)
	return append(out, attested...)
}

// coseKey encodes an ES256 public key as a COSE_Key (RFC 9053).
func coseKey(pub *ecdsa.PublicKey) ([]byte, error) {
	raw, err := pub.Bytes() // 0x04 | X | Y
	if err != nil {
		return nil, err
	}
	em, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		return nil, err
	}
	return em.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: raw[1:33], -3: raw[33:65]})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
