package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestPublicURLIsTheDefaultIssuer(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := Load([]string{"PUBLIC_URL=https://auth.example.com/"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.PublicURL != "https://auth.example.com" || c.JWTIssuer != "https://auth.example.com" {
		t.Fatalf("PUBLIC_URL %q, JWT_ISSUER %q; want both https://auth.example.com", c.PublicURL, c.JWTIssuer)
	}
	c, err = Load([]string{"PUBLIC_URL=https://auth.example.com", "JWT_ISSUER=mine"})
	if err != nil || c.JWTIssuer != "mine" {
		t.Fatalf("JWT_ISSUER = %q, %v; want mine", c.JWTIssuer, err)
	}
}

func TestIntrospectionClients(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := Load([]string{"INTROSPECTION_CLIENTS=gateway:s3cret-gateway, api:s3cret-api"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	clients := c.IntrospectionClients
	if len(clients) != 2 || clients[1].ID != "api" {
		t.Fatalf("clients = %v", clients)
	}
	for _, tc := range []struct {
		id, secret string
		want       bool
	}{
		{"gateway", "s3cret-gateway", true},
		{"api", "s3cret-api", true},
		{"api", "s3cret-gateway", false},
		{"gateway", "", false},
		{"nobody", "s3cret-api", false},
		{"", "", false},
	} {
		if got := clients.Authenticate(tc.id, tc.secret); got != tc.want {
			t.Errorf("Authenticate(%q, %q) = %v, want %v", tc.id, tc.secret, got, tc.want)
		}
	}
	for _, out := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), clients.String()} {
		if strings.Contains(out, "s3cret") {
			t.Fatalf("formatted config shows an introspection secret: %s", out)
		}
	}
	if _, err := Load([]string{"INTROSPECTION_CLIENTS=gateway:s3cret-gateway,broken"}); err == nil ||
		strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad INTROSPECTION_CLIENTS error = %v, want one that shows no secret", err)
	}
}
