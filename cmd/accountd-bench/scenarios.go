package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// API paths of the contract that the scenarios use.
const (
	pathRegister = "/api/v1/accounts/"
	pathToken    = "/api/v1/accounts/token"
	pathRefresh  = "/api/v1/accounts/refresh"
	pathMe       = "/api/v1/accounts/me"
)

// service is the benchmarked accountd, seen from the client side.
type service struct {
	base     string // http://127.0.0.1:port
	password string // every benchmark account's password
	prefix   string // start of every benchmark account id
}

// account is a benchmark account and, after login, one of its sessions.
type account struct {
	id      string
	access  string
	refresh string
}

func (s service) accountID(i int) string { return s.prefix + "-u" + strconv.Itoa(i) }

// register creates the account id with the benchmark password.
func (s service) register(ctx context.Context, client *http.Client, id string) (int, error) {
	body, _ := json.Marshal(map[string]string{"account_id": id, "password": s.password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+pathRegister, strings.NewReader(string(body)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	status, _ := do(client, req)
	return status, nil
}

func (s service) loginRequest(ctx context.Context, id string) (*http.Request, error) {
	form := url.Values{"username": {id}, "password": {s.password}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+pathToken, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// login logs id in and returns its access token and refresh cookie.
func (s service) login(ctx context.Context, client *http.Client, id string) (account, error) {
	req, err := s.loginRequest(ctx, id)
	if err != nil {
		return account{}, err
	}
	resp, err := client.Do(req) //nolint:gosec // G704: the URL is the loopback server this tool started
	if err != nil {
		return account{}, fmt.Errorf("log in %s: %w", id, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return account{}, fmt.Errorf("log in %s: status %d: %s", id, resp.StatusCode, b)
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&t); err != nil {
		return account{}, fmt.Errorf("log in %s: decode the token response: %w", id, err)
	}
	if t.AccessToken == "" {
		return account{}, fmt.Errorf("log in %s: no access_token in the response", id)
	}
	a := account{id: id, access: t.AccessToken, refresh: refreshCookie(resp.Header)}
	if a.refresh == "" {
		return account{}, fmt.Errorf("log in %s: no refresh_token cookie", id)
	}
	return a, nil
}

// refreshCookie returns the refresh_token that a response with header h
// sets, or "".
func refreshCookie(h http.Header) string {
	for _, line := range h.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == "refresh_token" {
			return c.Value
		}
	}
	return ""
}

// setupAccounts registers n accounts and logs each in once, in parallel
// (outside any timed part), and returns them in order.
func (s service) setupAccounts(ctx context.Context, n, parallel int) ([]account, error) {
	accounts := make([]account, n)
	errs := make([]error, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			client := newClient()
			defer client.CloseIdleConnections()
			id := s.accountID(i)
			status, err := s.register(ctx, client, id)
			if err == nil && status != http.StatusCreated {
				err = fmt.Errorf("register %s: status %d", id, status)
			}
			if err == nil {
				accounts[i], err = s.login(ctx, client, id)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("set up accounts: %w", err)
		}
	}
	return accounts, nil
}

// loginAll logs every account in again, in parallel, for sessions of their
// own.
func (s service) loginAll(ctx context.Context, accounts []account, parallel int) ([]account, error) {
	out := make([]account, len(accounts))
	errs := make([]error, len(accounts))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, a := range accounts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			client := newClient()
			defer client.CloseIdleConnections()
			out[i], errs[i] = s.login(ctx, client, a.id)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("log in: %w", err)
		}
	}
	return out, nil
}

// meJobs returns jobs that GET /me with the access tokens of accounts, worker
// i using account i mod len(accounts).
func (s service) meJobs(accounts []account) func(int) Job {
	return func(worker int) Job {
		auth := "Bearer " + accounts[worker%len(accounts)].access
		return func(ctx context.Context, client *http.Client) Outcome {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+pathMe, nil) //nolint:gosec // G704: loopback, see do
			req.Header.Set("Authorization", auth)
			status, _ := do(client, req)
			return Outcome{Status: status, OK: status == http.StatusOK}
		}
	}
}

// refreshJobs returns jobs where worker i rotates the session of
// sessions[i], sending each new refresh cookie with its next call. A
// rotation is valid when it is a 200 whose cookie differs from the token
// sent.
func (s service) refreshJobs(sessions []account) func(int) Job {
	return func(worker int) Job {
		token := sessions[worker].refresh
		return func(ctx context.Context, client *http.Client) Outcome {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+pathRefresh, nil) //nolint:gosec // G704: loopback, see do
			req.Header.Set("Cookie", "refresh_token="+token)
			status, header := do(client, req)
			if status != http.StatusOK {
				return Outcome{Status: status}
			}
			next := refreshCookie(header)
			valid := next != "" && next != token
			if next != "" {
				token = next
				// Kept for the next run over the same sessions (rounds).
				sessions[worker].refresh = next
			}
			return Outcome{Status: status, OK: true, Invalid: !valid}
		}
	}
}

// loginJobs returns jobs that log accounts in with the password form, worker
// i using account i mod len(accounts).
func (s service) loginJobs(accounts []account) func(int) Job {
	return func(worker int) Job {
		id := accounts[worker%len(accounts)].id
		return func(ctx context.Context, client *http.Client) Outcome {
			req, err := s.loginRequest(ctx, id)
			if err != nil {
				return Outcome{}
			}
			status, _ := do(client, req)
			return Outcome{Status: status, OK: status == http.StatusOK}
		}
	}
}

// registerJobs returns jobs that create accounts with ids never used before.
func (s service) registerJobs(run string) func(int) Job {
	return func(worker int) Job {
		n := 0
		return func(ctx context.Context, client *http.Client) Outcome {
			n++
			id := s.prefix + "-" + run + "-w" + strconv.Itoa(worker) + "-" + strconv.Itoa(n)
			status, err := s.register(ctx, client, id)
			if err != nil {
				return Outcome{}
			}
			return Outcome{Status: status, OK: status == http.StatusCreated}
		}
	}
}
