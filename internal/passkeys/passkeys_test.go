package passkeys_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/passkeys"
	"github.com/accountd/accountd/internal/passkeys/passkeystest"
)

const origin = "http://localhost:8000"

func newRP(t *testing.T) *passkeys.RelyingParty {
	t.Helper()
	rp, err := passkeys.New(passkeys.Config{
		RPID: "localhost", RPName: "accountd test", Origins: []string{origin}, Timeout: 5 * time.Minute,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return rp
}

// register registers a passkey of u on the authenticator and returns it.
func register(t *testing.T, rp *passkeys.RelyingParty, a *passkeystest.Authenticator, u account.PasskeyUser) account.Passkey {
	t.Helper()
	c, err := rp.BeginRegistration(u)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	cred, err := a.Create(c.Options)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	p, err := rp.FinishRegistration(u, c.State, cred)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	return p
}

func TestRegistrationOptionsAskForDiscoverableVerifiedCredentials(t *testing.T) {
	t.Parallel()
	rp := newRP(t)
	u := account.PasskeyUser{Handle: []byte("handle-of-alice"), Name: "alice",
		Passkeys: []account.Passkey{{ID: []byte("old"), PublicKey: []byte("k")}}}
	c, err := rp.BeginRegistration(u)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	var o struct {
		PublicKey struct {
			RP                     map[string]any   `json:"rp"`
			User                   map[string]any   `json:"user"`
			Challenge              string           `json:"challenge"`
			Timeout                int              `json:"timeout"`
			Exclude                []map[string]any `json:"excludeCredentials"`
			AuthenticatorSelection map[string]any   `json:"authenticatorSelection"`
			Attestation            string           `json:"attestation"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(c.Options, &o); err != nil {
		t.Fatalf("options are not JSON: %v", err)
	}
	pk := o.PublicKey
	sel := pk.AuthenticatorSelection
	switch {
	case pk.RP["id"] != "localhost" || pk.RP["name"] != "accountd test":
		t.Errorf("rp = %v", pk.RP)
	case pk.User["id"] != "aGFuZGxlLW9mLWFsaWNl" || pk.User["name"] != "alice":
		t.Errorf("user = %v, want the handle in base64url and the account id", pk.User)
	case sel["residentKey"] != "required" || sel["requireResidentKey"] != true || sel["userVerification"] != "required":
		t.Errorf("authenticatorSelection = %v, want resident key and user verification required", sel)
	case len(pk.Exclude) != 1 || pk.Exclude[0]["id"] != "b2xk":
		t.Errorf("excludeCredentials = %v, want the user's passkey", pk.Exclude)
	case pk.Challenge == "" || pk.Timeout != 300000:
		t.Errorf("challenge %q, timeout %d; want a challenge and 300000 ms", pk.Challenge, pk.Timeout)
	case pk.Attestation != "none":
		t.Errorf("attestation = %q, want none", pk.Attestation)
	}
}

func TestRegisterAndLogin(t *testing.T) {
	t.Parallel()
	rp := newRP(t)
	a := passkeystest.New(origin)
	u := account.PasskeyUser{Handle: []byte("handle-of-alice"), Name: "alice"}
	p := register(t, rp, a, u)
	if account.PasskeyID(p.ID) != a.CredentialID() || len(p.PublicKey) == 0 || p.AttestationFormat != "none" ||
		len(p.Transports) != 1 || p.Transports[0] != "internal" {
		t.Fatalf("registered %+v, want the authenticator's credential", p)
	}
	u.Passkeys = []account.Passkey{p}

	c, err := rp.BeginLogin()
	if err != nil {
		t.Fatalf("BeginLogin: %v", err)
	}
	if strings.Contains(string(c.Options), "allowCredentials") || !strings.Contains(string(c.Options), `"userVerification":"required"`) {
		t.Fatalf("request options %s: want no allowCredentials and user verification required", c.Options)
	}
	assertion, err := a.Get(c.Options)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	var gotID, gotHandle []byte
	as, err := rp.FinishLogin(c.State, assertion, func(id, handle []byte) (account.PasskeyUser, error) {
		gotID, gotHandle = id, handle
		return u, nil
	})
	if err != nil {
		t.Fatalf("FinishLogin: %v", err)
	}
	if string(gotID) != string(p.ID) || string(gotHandle) != "handle-of-alice" {
		t.Fatalf("find got %x, %q; want the credential id and alice's handle", gotID, gotHandle)
	}
	if string(as.ID) != string(p.ID) || as.SignCount != 1 {
		t.Fatalf("assertion %+v, want the credential with counter 1", as)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	rp := newRP(t)
	a := passkeystest.New(origin)
	alice := account.PasskeyUser{Handle: []byte("handle-of-alice"), Name: "alice"}
	alice.Passkeys = []account.Passkey{register(t, rp, a, alice)}
	findAlice := func([]byte, []byte) (account.PasskeyUser, error) { return alice, nil }

	t.Run("registration", func(t *testing.T) {
		c, _ := rp.BeginRegistration(account.PasskeyUser{Handle: []byte("handle-of-bob"), Name: "bob"})
		cred, err := passkeystest.New(origin).Create(c.Options)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := rp.BeginRegistration(account.PasskeyUser{Handle: []byte("handle-of-bob"), Name: "bob"})
		evil, _ := passkeystest.New("http://evil.localhost:8000").Create(c.Options)
		for name, try := range map[string]func() error{
			"another user's ceremony": func() error {
				_, err := rp.FinishRegistration(alice, c.State, cred)
				return err
			},
			"another ceremony's challenge": func() error {
				_, err := rp.FinishRegistration(account.PasskeyUser{Handle: []byte("handle-of-bob")}, other.State, cred)
				return err
			},
			"another origin": func() error {
				_, err := rp.FinishRegistration(account.PasskeyUser{Handle: []byte("handle-of-bob")}, c.State, evil)
				return err
			},
			"not a credential": func() error {
				_, err := rp.FinishRegistration(account.PasskeyUser{Handle: []byte("handle-of-bob")}, c.State, []byte(`{"id": 1}`))
				return err
			},
		} {
			if err := try(); !errors.Is(err, account.ErrInvalidPasskey) {
				t.Errorf("%s: %v, want ErrInvalidPasskey", name, err)
			}
		}
	})

	t.Run("login", func(t *testing.T) {
		five := uint32(5)
		for name, tamper := range map[string]passkeystest.Tamper{
			"bad signature":                  {BadSignature: true},
			"another origin":                 {Origin: "https://evil.example"},
			"user handle of another account": {UserHandle: []byte("handle-of-bob")},
		} {
			c, _ := rp.BeginLogin()
			assertion, err := a.GetTampered(c.Options, tamper)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rp.FinishLogin(c.State, assertion, findAlice); !errors.Is(err, account.ErrInvalidPasskey) {
				t.Errorf("%s: %v, want ErrInvalidPasskey", name, err)
			}
		}
		c, _ := rp.BeginLogin()
		other, _ := rp.BeginLogin()
		assertion, _ := a.GetTampered(c.Options, passkeystest.Tamper{Count: &five})
		if _, err := rp.FinishLogin(other.State, assertion, findAlice); !errors.Is(err, account.ErrInvalidPasskey) {
			t.Errorf("another ceremony's challenge: %v, want ErrInvalidPasskey", err)
		}
		if _, err := rp.FinishLogin(c.State, []byte(`[]`), findAlice); !errors.Is(err, account.ErrInvalidPasskey) {
			t.Errorf("not an assertion: %v, want ErrInvalidPasskey", err)
		}
		// The counter is reported as sent: the domain applies the rule.
		if as, err := rp.FinishLogin(c.State, assertion, findAlice); err != nil || as.SignCount != 5 {
			t.Errorf("FinishLogin = %+v, %v; want counter 5", as, err)
		}
		// find's own errors come back as they are, not as a bad passkey.
		c, _ = rp.BeginLogin()
		assertion, _ = a.Get(c.Options)
		down := func([]byte, []byte) (account.PasskeyUser, error) {
			return account.PasskeyUser{}, account.ErrUnavailable
		}
		if _, err := rp.FinishLogin(c.State, assertion, down); !errors.Is(err, account.ErrUnavailable) || errors.Is(err, account.ErrInvalidPasskey) {
			t.Errorf("find failing: %v, want ErrUnavailable only", err)
		}
	})
}
