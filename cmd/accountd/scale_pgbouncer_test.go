package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/accountd/accountd/internal/enginetest"
	"github.com/accountd/accountd/internal/postgres/pgtest"
)

// pgbouncerEnv is a test environment with DATABASE_URL through a private
// PgBouncer in transaction mode, DATABASE_DIRECT_URL naming the same
// (missing) database on the server, and the query mode PgBouncer needs.
func pgbouncerEnv(t *testing.T, b *enginetest.PgBouncer) []string {
	t.Helper()
	direct := pgtest.UnusedServerDatabaseURL(t)
	return append(baseEnv(t),
		"DATABASE_URL="+b.Via(t, direct),
		"DATABASE_DIRECT_URL="+direct,
		"DATABASE_QUERY_MODE=exec")
}

// TestServeThroughPgBouncer runs accountd as the README configures it
// behind PgBouncer's transaction pooling: the database is created and
// migrated through DATABASE_DIRECT_URL, every request goes through the
// pooler, racing refreshes of one token all get the same child, a logout
// holds, and the cleanup and migrate commands work through it too.
func TestServeThroughPgBouncer(t *testing.T) {
	t.Parallel()
	b := enginetest.StartPgBouncer(t, pgtest.ServerURL())
	env := pgbouncerEnv(t, b)
	in := start(t, env)
	api := in.URL + "/api/v1/accounts"
	c := newClient(t)

	st, body, _ := c.do("POST", api+"/", "application/json", `{"account_id": "pooled", "password": "securepass123"}`)
	wantStatus(t, "register", st, http.StatusCreated, body)
	st, body, _ = c.do("POST", api+"/token", "application/x-www-form-urlencoded", "username=pooled&password=securepass123")
	wantStatus(t, "login", st, http.StatusOK, body)
	for i := range 5 {
		st, body, _ = c.do("POST", api+"/refresh", "", "")
		wantStatus(t, fmt.Sprintf("refresh #%d", i+1), st, http.StatusOK, body)
	}

	// Racing tabs: every refresh of one token gets 200 and the same child.
	refresh := c.cookie(in.URL, "refresh_token")
	const racers = 12
	children := make([]string, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			rc := newClient(t)
			req, _ := http.NewRequest(http.MethodPost, api+"/refresh", nil)
			req.AddCookie(&http.Cookie{Name: "refresh_token", Value: refresh})
			resp, err := rc.http.Do(req)
			if err != nil {
				t.Errorf("racing refresh: %v", err)
				return
			}
			resp.Body.Close()
			for _, ck := range resp.Cookies() {
				if ck.Name == "refresh_token" && resp.StatusCode == http.StatusOK {
					children[i] = ck.Value
				}
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("racing refresh: status %d, want 200", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	for i, ch := range children {
		if ch == "" || ch != children[0] {
			t.Fatalf("racing refresh %d got child %q, want every racer to get %q", i, ch, children[0])
		}
	}

	st, body, _ = c.do("GET", api+"/me", "", "")
	wantStatus(t, "me", st, http.StatusOK, body)
	st, body, _ = c.do("GET", api+"/sessions", "", "")
	wantStatus(t, "sessions", st, http.StatusOK, body)
	access := c.cookie(in.URL, "access_token")
	st, body, _ = c.do("DELETE", api+"/logout", "", "")
	wantStatus(t, "logout", st, http.StatusOK, body)
	st, body, _ = c.do("GET", api+"/me", "", "", "Authorization", "Bearer "+access)
	wantStatus(t, "me after logout", st, http.StatusUnauthorized, body)

	var out bytes.Buffer
	if err := run(context.Background(), []string{"accountd", "cleanup"}, env, &out); err != nil {
		t.Fatalf("cleanup through PgBouncer: %v", err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"accountd", "migrate", "status"}, env, &out); err != nil ||
		!strings.Contains(out.String(), "applied") {
		t.Fatalf("migrate status: %v, printed %q; want every migration applied", err, out.String())
	}
}

// TestMigrateThroughPgBouncerWithoutDirectURL starts three instances at
// once on an empty database through PgBouncer alone (no
// DATABASE_DIRECT_URL): the migration lock holds through the pooler, so
// each migration runs once and every instance starts.
func TestMigrateThroughPgBouncerWithoutDirectURL(t *testing.T) {
	t.Parallel()
	b := enginetest.StartPgBouncer(t, pgtest.ServerURL())
	env := pgbouncerEnv(t, b)
	env = append(env, "DATABASE_DIRECT_URL=")
	// A pooler cannot create the database: it is created first, empty.
	for _, kv := range env {
		if direct, ok := strings.CutPrefix(kv, "DATABASE_DIRECT_URL="); ok && direct != "" {
			var out bytes.Buffer
			if err := run(context.Background(), []string{"accountd", "migrate", "status"},
				[]string{"DATABASE_URL=" + direct}, &out); err != nil {
				t.Fatalf("create the database: %v", err)
			}
		}
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { start(t, slices.Clone(env)) })
	}
	wg.Wait()
}
