package http_test

import (
	"net/http"
	"regexp"
	"sync"
	"testing"

	"github.com/accountd/accountd/internal/security"
)

// testArgon2 are argon2id settings cheap enough for tests under -race.
var testArgon2 = security.Argon2Params{Memory: 1024, Time: 1, Threads: 1, MaxMemory: 64 * 1024}

var (
	argon2PHC = regexp.MustCompile(`^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	bcrypt4   = regexp.MustCompile(`^\$2a\$04\$`)
)

// storedHash returns the password hash of the account.
func (a *testAPI) storedHash(t *testing.T, id string) string {
	t.Helper()
	var hash string
	if err := a.pool.QueryRow(t.Context(), "SELECT password_hash FROM accounts WHERE account_id = $1", id).Scan(&hash); err != nil {
		t.Fatalf("read hash: %v", err)
	}
	return hash
}

func (a *testAPI) wantHash(t *testing.T, when, id string, want *regexp.Regexp) {
	t.Helper()
	if got := a.storedHash(t, id); !want.MatchString(got) {
		t.Fatalf("hash %s = %q, want it to match %s", when, got, want)
	}
}

// TestLoginMigratesBetweenBcryptAndArgon2id logs in on two instances of
// one database, one with PASSWORD_HASH=bcrypt and one with argon2id: each
// good login re-hashes the password with the instance's algorithm, a bad
// one changes nothing, and the password works throughout.
func TestLoginMigratesBetweenBcryptAndArgon2id(t *testing.T) {
	t.Parallel()
	bc := newTestAPI(t)
	ar := newTestAPI(t, sharingBackendsWith(bc), withArgon2(testArgon2))
	id := bc.newAccount(t, "Migrate")
	bc.wantHash(t, "after registration with bcrypt", id, bcrypt4)

	wantStatus(t, ar.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, "wrong-password")), http.StatusBadRequest, "invalid_credentials")
	bc.wantHash(t, "after a failed login on the argon2id instance", id, bcrypt4)
	ar.login(t, id, testPassword)
	bc.wantHash(t, "after a good login on the argon2id instance", id, argon2PHC)
	before := bc.storedHash(t, id)
	ar.login(t, id, testPassword)
	if got := bc.storedHash(t, id); got != before {
		t.Fatalf("an argon2id hash of the current settings was re-hashed at login: %q -> %q", before, got)
	}

	wantStatus(t, bc.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, "wrong-password")), http.StatusBadRequest, "invalid_credentials")
	bc.wantHash(t, "after a failed login on the bcrypt instance", id, argon2PHC)
	bc.login(t, id, testPassword)
	bc.wantHash(t, "after a good login back on the bcrypt instance", id, bcrypt4)
	ar.login(t, id, testPassword)

	// Registration and password changes on the argon2id instance store
	// argon2id hashes.
	id2 := ar.newAccount(t, "Argon")
	ar.wantHash(t, "after registration with argon2id", id2, argon2PHC)
	b := ar.newBrowser(t)
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/token", loginForm(id2, testPassword)), http.StatusOK, "")
	wantStatus(t, b.do(t, http.MethodPut, accountsPath+"/password",
		map[string]string{"old_password": testPassword, "new_password": "another-pass-" + randomHex(4)}), http.StatusOK, "")
	ar.wantHash(t, "after a password change with argon2id", id2, argon2PHC)
}

// TestArgon2MemoryBoundUnderParallelLogins sends 32 logins at once to an
// instance with 8 hash slots but argon2id memory for 2 hashes: every login
// succeeds, and the hasher never has more than ARGON2_MAX_MEMORY in use.
func TestArgon2MemoryBoundUnderParallelLogins(t *testing.T) {
	t.Parallel()
	p := security.Argon2Params{Memory: 4096, Time: 1, Threads: 1, MaxMemory: 8192}
	api := newTestAPI(t, withArgon2(p), withHashSlots(8))
	ids := make([]string, 4)
	for i := range ids {
		ids[i] = api.newAccount(t, "Bound")
	}
	var wg sync.WaitGroup
	status := make(chan int, 32)
	for i := range 32 {
		wg.Go(func() {
			r := api.do(t, http.MethodPost, accountsPath+"/token", loginForm(ids[i%len(ids)], testPassword))
			status <- r.Status
		})
	}
	wg.Wait()
	close(status)
	for s := range status {
		if s != http.StatusOK {
			t.Fatalf("a parallel login got %d, want 200", s)
		}
	}
	if peak := api.hasher.Argon2PeakMemory(); peak > p.MaxMemory || peak < uint64(p.Memory) {
		t.Fatalf("argon2id computations held %d KiB at once, want %d..%d", peak, p.Memory, p.MaxMemory)
	}
}
