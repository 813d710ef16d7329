package config

import (
	"fmt"
	"net/url"
	"strings"
)

// Passkeys reports whether passkeys are on: WEBAUTHN_RP_ID is set, or
// PUBLIC_URL names a host that can be one.
func (c Config) Passkeys() bool { return c.WebAuthnRPID != "" }

// defaultWebAuthn fills in the relying party from PUBLIC_URL where the
// WEBAUTHN_ variables leave it out. A PUBLIC_URL whose host cannot be a
// relying party id (an IP address) leaves passkeys off rather than stop the
// service: it was set for other reasons.
func (c *Config) defaultWebAuthn() {
	c.WebAuthnRPID = strings.ToLower(strings.TrimSpace(c.WebAuthnRPID))
	public, _ := url.Parse(c.PublicURL)
	if c.WebAuthnRPID == "" && c.PublicURL != "" && public != nil && validRPID(public.Hostname()) {
		c.WebAuthnRPID = strings.ToLower(public.Hostname())
	}
	origins := c.WebAuthnOrigins[:0]
	for _, o := range c.WebAuthnOrigins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			origins = append(origins, o)
		}
	}
	c.WebAuthnOrigins = origins
	if len(c.WebAuthnOrigins) > 0 || c.WebAuthnRPID == "" {
		return
	}
	if public != nil && onRPID(public.Hostname(), c.WebAuthnRPID) {
		c.WebAuthnOrigins = []string{public.Scheme + "://" + public.Host}
	} else {
		c.WebAuthnOrigins = []string{"https://" + c.WebAuthnRPID}
	}
}

func (c Config) validateWebAuthn() error {
	if c.WebAuthnRPID == "" {
		if len(c.WebAuthnOrigins) > 0 {
			return fmt.Errorf("WEBAUTHN_ORIGINS: set WEBAUTHN_RP_ID (or PUBLIC_URL) too, or passkeys stay off")
		}
		return nil
	}
	if !validRPID(c.WebAuthnRPID) {
		return fmt.Errorf("WEBAUTHN_RP_ID: want a domain such as example.com (no scheme, port or path, not an IP address)")
	}
	if strings.TrimSpace(c.WebAuthnRPName) == "" {
		return fmt.Errorf("WEBAUTHN_RP_NAME: want a name for authenticators to show, such as accountd")
	}
	for _, o := range c.WebAuthnOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.ContainsAny(o, "*?#") {
			return fmt.Errorf("WEBAUTHN_ORIGINS: %q is not an origin such as https://app.example.com", o)
		}
		if !onRPID(u.Hostname(), c.WebAuthnRPID) {
			return fmt.Errorf("WEBAUTHN_ORIGINS: the host of %q is neither WEBAUTHN_RP_ID (%s) nor a subdomain of it",
				o, c.WebAuthnRPID)
		}
	}
	return nil
}

// onRPID reports whether host may use passkeys of the relying party rpID:
// it is rpID or a subdomain of it.
func onRPID(host, rpID string) bool {
	host = strings.ToLower(host)
	return host == rpID || strings.HasSuffix(host, "."+rpID)
}

// validRPID reports whether s can be a WebAuthn relying party id: a domain
// name of letters, digits and hyphens (such as localhost or example.com),
// not an IP address.
func validRPID(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(strings.ToLower(s), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != "" // a numeric top label is an IPv4 address
}
