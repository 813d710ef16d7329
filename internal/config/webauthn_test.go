package config

import (
	"slices"
	"strings"
	"testing"
)

func TestWebAuthnDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		env         []string
		wantRPID    string
		wantOrigins []string
	}{
		{nil, "", nil},
		{[]string{"PUBLIC_URL=https://auth.example.com/"}, "auth.example.com", []string{"https://auth.example.com"}},
		{[]string{"PUBLIC_URL=http://localhost:8000"}, "localhost", []string{"http://localhost:8000"}},
		// An IP address cannot be a relying party id: passkeys stay off.
		{[]string{"PUBLIC_URL=http://10.0.0.5:8000"}, "", nil},
		{[]string{"WEBAUTHN_RP_ID=Example.COM"}, "example.com", []string{"https://example.com"}},
		{[]string{"WEBAUTHN_RP_ID=example.com", "PUBLIC_URL=https://auth.example.com"}, "example.com", []string{"https://auth.example.com"}},
		{[]string{"WEBAUTHN_RP_ID=example.com", "PUBLIC_URL=https://auth.other.org"}, "example.com", []string{"https://example.com"}},
		{[]string{"PUBLIC_URL=https://auth.example.com", "WEBAUTHN_ORIGINS=https://app.auth.example.com/, https://auth.example.com"},
			"auth.example.com", []string{"https://app.auth.example.com", "https://auth.example.com"}},
	} {
		c, err := Load(tc.env)
		if err != nil {
			t.Fatalf("Load(%q): %v", tc.env, err)
		}
		if c.WebAuthnRPID != tc.wantRPID || !slices.Equal(c.WebAuthnOrigins, tc.wantOrigins) || c.Passkeys() != (tc.wantRPID != "") {
			t.Errorf("Load(%q): WEBAUTHN_RP_ID %q, WEBAUTHN_ORIGINS %q; want %q, %q",
				tc.env, c.WebAuthnRPID, c.WebAuthnOrigins, tc.wantRPID, tc.wantOrigins)
		}
		if c.WebAuthnRPName != "accountd" {
			t.Errorf("WEBAUTHN_RP_NAME = %q, want accountd", c.WebAuthnRPName)
		}
	}
}

func TestWebAuthnErrorsNameTheVariable(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"WEBAUTHN_RP_ID=https://example.com"}, "WEBAUTHN_RP_ID"},
		{[]string{"WEBAUTHN_RP_ID=example.com:443"}, "WEBAUTHN_RP_ID"},
		{[]string{"WEBAUTHN_RP_ID=192.168.1.1"}, "WEBAUTHN_RP_ID"},
		{[]string{"WEBAUTHN_RP_ID=exa_mple.com"}, "WEBAUTHN_RP_ID"},
		{[]string{"WEBAUTHN_RP_ID=example.com", "WEBAUTHN_RP_NAME= "}, "WEBAUTHN_RP_NAME"},
		{[]string{"WEBAUTHN_RP_ID=example.com", "WEBAUTHN_ORIGINS=https://evil.org"}, "WEBAUTHN_ORIGINS"},
		{[]string{"WEBAUTHN_RP_ID=example.com", "WEBAUTHN_ORIGINS=https://notexample.com"}, "WEBAUTHN_ORIGINS"},
		{[]string{"WEBAUTHN_RP_ID=example.com", "WEBAUTHN_ORIGINS=example.com"}, "WEBAUTHN_ORIGINS"},
		{[]string{"WEBAUTHN_RP_ID=example.com", "WEBAUTHN_ORIGINS=https://example.com/app"}, "WEBAUTHN_ORIGINS"},
		{[]string{"WEBAUTHN_RP_ID=example.com", "WEBAUTHN_ORIGINS=https://*.example.com"}, "WEBAUTHN_ORIGINS"},
		{[]string{"WEBAUTHN_ORIGINS=https://example.com"}, "WEBAUTHN_ORIGINS"},
	} {
		_, err := Load(tc.env)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want+":") {
			t.Errorf("Load(%q) = %v, want an error naming %s", tc.env, err, tc.want)
		}
	}
}
