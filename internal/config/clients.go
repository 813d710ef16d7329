package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
)

// Client is one client of the introspection endpoint.
type Client struct {
	ID     string
	Secret Secret
}

// Clients is INTROSPECTION_CLIENTS: id:secret pairs, comma-separated. It
// never shows the secrets in logs or formatted output.
type Clients []Client

// UnmarshalText parses id:secret,id:secret. Ids are unique and neither part
// is empty.
func (c *Clients) UnmarshalText(text []byte) error {
	var out Clients
	seen := map[string]bool{}
	for _, pair := range strings.Split(string(text), ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		id, secret, ok := strings.Cut(pair, ":")
		if !ok || id == "" || secret == "" || seen[id] {
			// The pair itself is not repeated: it holds a secret.
			return fmt.Errorf("entry %d is not a unique id:secret", len(out)+1)
		}
		seen[id] = true
		out = append(out, Client{ID: id, Secret: Secret(secret)})
	}
	*c = out
	return nil
}

// String lists the client ids, never the secrets.
func (c Clients) String() string {
	ids := make([]string, len(c))
	for i, cl := range c {
		ids[i] = cl.ID + ":[redacted]"
	}
	return strings.Join(ids, ",")
}

// GoString is String: the secrets stay hidden under %#v.
func (c Clients) GoString() string { return c.String() }

// Authenticate reports whether id and secret are those of a client. The
// secrets are compared in constant time (as hashes, so that their lengths
// do not show either), and every client is compared, whatever the id.
func (c Clients) Authenticate(id, secret string) bool {
	got := sha256.Sum256([]byte(secret))
	ok := 0
	for _, cl := range c {
		want := sha256.Sum256([]byte(cl.Secret))
		match := subtle.ConstantTimeCompare(got[:], want[:])
		ok |= match & subtle.ConstantTimeCompare([]byte(id), []byte(cl.ID))
	}
	return ok == 1
}
