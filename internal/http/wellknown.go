package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Paths other services find accountd's keys and endpoints at.
const (
	jwksPath          = "/.well-known/jwks.json"
	discoveryPath     = "/.well-known/oauth-authorization-server"
	introspectPath    = accountsPath + "/introspect"
	tokenEndpointPath = accountsPath + "/token"
)

// serverMetadata is the RFC 8414 authorization server metadata.
type serverMetadata struct {
	Issuer                         string   `json:"issuer"`
	TokenEndpoint                  string   `json:"token_endpoint"`
	JWKSURI                        string   `json:"jwks_uri"`
	IntrospectionEndpoint          string   `json:"introspection_endpoint"`
	ResponseTypesSupported         []string `json:"response_types_supported"`
	GrantTypesSupported            []string `json:"grant_types_supported"`
	TokenEndpointAuthMethods       []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMeths []string `json:"introspection_endpoint_auth_methods_supported"`
	ServiceDocumentation           string   `json:"service_documentation"`
}

// handleDiscovery serves the RFC 8414 metadata: where the token endpoint,
// the JWKS and introspection are. publicURL (PUBLIC_URL) makes the URLs
// absolute; without it they are paths, since the Host header that a client
// sends cannot be trusted to name this server. The document changes only
// with the configuration, so it is encoded once and cached like the JWKS.
func handleDiscovery(issuer, publicURL string, maxAge time.Duration) http.Handler {
	body, _ := json.Marshal(serverMetadata{ // strings only: it always encodes
		Issuer:                         issuer,
		TokenEndpoint:                  publicURL + tokenEndpointPath,
		JWKSURI:                        publicURL + jwksPath,
		IntrospectionEndpoint:          publicURL + introspectPath,
		ResponseTypesSupported:         []string{}, // no authorization endpoint
		GrantTypesSupported:            []string{"password", "refresh_token"},
		TokenEndpointAuthMethods:       []string{"none"},
		IntrospectionEndpointAuthMeths: []string{"client_secret_basic"},
		ServiceDocumentation:           publicURL + "/docs",
	})
	body = append(body, '\n')
	cacheControl := []string{"public, max-age=" + strconv.Itoa(int(maxAge/time.Second))}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Cache-Control"] = cacheControl
		w.Header()["Content-Type"] = jsonContentValue
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}
