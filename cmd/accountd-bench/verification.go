package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// The introspection client that the benchmarked accountd is given.
const (
	benchClientID     = "bench"
	benchClientSecret = "bench-introspection-secret-not-for-production"
	pathIntrospect    = "/api/v1/accounts/introspect"
	pathJWKS          = "/.well-known/jwks.json"
)

// introspectJobs returns jobs that introspect the access tokens of
// accounts, as a resource server would, worker i using account i mod
// len(accounts). A 200 that does not say active is invalid.
func (s service) introspectJobs(accounts []account) func(int) Job {
	return func(worker int) Job {
		form := url.Values{"token": {accounts[worker%len(accounts)].access}}.Encode()
		return func(ctx context.Context, client *http.Client) Outcome {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+pathIntrospect, strings.NewReader(form)) //nolint:gosec // G704: loopback, see do
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(benchClientID, benchClientSecret)
			resp, err := client.Do(req) //nolint:gosec // G704: loopback, see do
			if err != nil {
				return Outcome{}
			}
			defer drain(resp)
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<12))
			active := strings.Contains(string(body), `"active":true`)
			ok := resp.StatusCode == http.StatusOK
			return Outcome{Status: resp.StatusCode, OK: ok, Invalid: ok && !active}
		}
	}
}

// jwksJobs returns jobs that fetch the JWKS, as verifiers do when their
// copy expires.
func (s service) jwksJobs() func(int) Job {
	return func(int) Job {
		return func(ctx context.Context, client *http.Client) Outcome {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+pathJWKS, nil) //nolint:gosec // G704: loopback, see do
			status, _ := do(client, req)
			return Outcome{Status: status, OK: status == http.StatusOK}
		}
	}
}
