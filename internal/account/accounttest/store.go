package accounttest

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// errMalformedID is what the fakes return where PostgreSQL would reject an
// id that is not a UUID with an error other than "no rows".
var errMalformedID = errors.New("malformed uuid")

// db is the state that AccountStore and SessionStore share, as the
// PostgreSQL adapters share the tables: its one mutex makes every method one
// transaction, so the fakes are as atomic as the statements they stand for.
type db struct {
	mu       sync.Mutex
	accounts map[string]*account.Account // by uuid
	sessions map[string]*sessionRow      // by id
	tokens   map[string]*tokenRow        // by string(token hash)
	// beforeCreate, when set, runs at the start of SessionStore.Create,
	// outside the lock.
	beforeCreate func(account.NewSession)
	// events is the security history, oldest first; lastEventID is the id
	// of the latest event ever stored.
	events      []account.Event
	lastEventID int64
	// tombstones keeps when each session of a deleted account was revoked.
	tombstones map[string]time.Time
	// now stamps what PostgreSQL stamps with its own clock (revocations
	// without a caller's time); time.Now unless SetClock was called.
	now func() time.Time
}

func newDB() *db {
	return &db{
		accounts:   make(map[string]*account.Account),
		sessions:   make(map[string]*sessionRow),
		tokens:     make(map[string]*tokenRow),
		tombstones: make(map[string]time.Time),
		now:        time.Now,
	}
}

// addEvents stores events with the next ids, dropping those of accounts
// that do not exist. The caller holds d.mu.
func (d *db) addEvents(events ...account.Event) {
	for _, e := range events {
		id, ok := canonicalUUID(e.AccountUUID)
		if !ok || d.accounts[id] == nil {
			continue
		}
		d.lastEventID++
		e.ID, e.AccountUUID, e.CreatedAt = d.lastEventID, id, dbTime(e.CreatedAt)
		if sid, ok := canonicalUUID(e.SessionID); ok {
			e.SessionID = sid
		} else {
			e.SessionID = ""
		}
		d.events = append(d.events, e)
	}
}

// sessionRow is a session and when it was revoked (zero while live).
type sessionRow struct {
	account.Session
	revokedAt time.Time
}

func (s *sessionRow) live(now time.Time) bool { return s.revokedAt.IsZero() && s.ExpiresAt.After(now) }

// tokenRow is a stored refresh token.
type tokenRow struct {
	sessionID   string
	parent      *tokenRow
	expiresAt   time.Time
	usedAt      time.Time // zero while unused
	revokedAt   time.Time // zero while not revoked
	childSealed []byte
}

// byAccountID finds an account as lower(account_id) = lower($1) does.
// The caller holds d.mu.
func (d *db) byAccountID(accountID string) *account.Account {
	want := strings.ToLower(accountID)
	for _, a := range d.accounts {
		if strings.ToLower(a.AccountID) == want {
			return a
		}
	}
	return nil
}

// revokeSessions revokes the sessions and every refresh token of theirs at
// now. The caller holds d.mu.
func (d *db) revokeSessions(rows []*sessionRow, now time.Time) []string {
	ids := make([]string, 0, len(rows))
	revoked := make(map[string]bool, len(rows))
	for _, s := range rows {
		s.revokedAt = now
		ids = append(ids, s.ID)
		revoked[s.ID] = true
	}
	for _, t := range d.tokens {
		if revoked[t.sessionID] && t.revokedAt.IsZero() {
			t.revokedAt = now
		}
	}
	return ids
}

// canonicalUUID returns s in the form PostgreSQL prints a uuid column in
// (lower case), and whether s is a UUID at all.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return "", false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return "", false
		}
	}
	return strings.ToLower(s), true
}

// dbTime is t as a timestamptz column keeps it: in UTC, to the microsecond
// (pgx truncates what it sends).
func dbTime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }
