package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/account"
)

// EventStore keeps the security history in the security_events table.
type EventStore struct {
	pool *pgxpool.Pool
}

var _ account.EventStore = (*EventStore)(nil)

// NewEventStore returns an EventStore that uses pool.
func NewEventStore(pool *pgxpool.Pool) *EventStore {
	return &EventStore{pool: pool}
}

const (
	// addEventsSQL stores a batch in one statement, in order, so that the
	// ids follow it; the join drops the events of accounts that are gone
	// (deleted meanwhile) instead of failing the batch on the foreign key.
	addEventsSQL = `
INSERT INTO security_events (account_uuid, type, created_at, ip_address, user_agent, session_id, request_id)
SELECT a.uuid, e.type, e.created_at, e.ip_address, e.user_agent, nullif(e.session_id, '')::uuid, e.request_id
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[])
    WITH ORDINALITY AS e (account_uuid, type, created_at, ip_address, user_agent, session_id, request_id, n)
JOIN accounts a ON a.uuid = e.account_uuid
ORDER BY e.n`

	// listEventsSQL pages by id, newest first, on the (account_uuid, id)
	// index; $2 = 0 starts from the newest.
	listEventsSQL = `
SELECT id, account_uuid::text, type, created_at, ip_address, user_agent,
       coalesce(session_id::text, '') AS session_id, request_id
FROM security_events
WHERE account_uuid = $1 AND ($2 = 0 OR id < $2)
ORDER BY id DESC
LIMIT $3`
)

type eventRow struct {
	ID          int64     `db:"id"`
	AccountUUID string    `db:"account_uuid"`
	Type        string    `db:"type"`
	CreatedAt   time.Time `db:"created_at"`
	IPAddress   string    `db:"ip_address"`
	UserAgent   string    `db:"user_agent"`
	SessionID   string    `db:"session_id"`
	RequestID   string    `db:"request_id"`
}

// Add stores the events in one statement, all or none, dropping those of
// accounts that no longer exist (or whose id is not a UUID). A session id
// that is not a UUID is stored as none.
func (s *EventStore) Add(ctx context.Context, events []account.Event) error {
	var accounts, types, ips, agents, sessions, requests []string
	var times []time.Time
	for _, e := range events {
		if !validUUID(e.AccountUUID) {
			continue
		}
		sid := e.SessionID
		if !validUUID(sid) {
			sid = ""
		}
		accounts, types, times = append(accounts, e.AccountUUID), append(types, string(e.Type)), append(times, e.CreatedAt)
		ips, agents = append(ips, e.IPAddress), append(agents, e.UserAgent)
		sessions, requests = append(sessions, sid), append(requests, e.RequestID)
	}
	if len(accounts) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, addEventsSQL, accounts, types, times, ips, agents, sessions, requests)
	if hasCode(err, codeForeignKeyViolation) {
		// An account of the batch was deleted between the join and the
		// insert: its events go with it, as if they had been stored first.
		return nil
	}
	return translate("add security events", err)
}

// List returns at most limit events of the account whose id is below
// before (0: from the newest), newest first. An accountUUID that is not a
// UUID has none.
func (s *EventStore) List(ctx context.Context, accountUUID string, before int64, limit int) ([]account.Event, error) {
	if !validUUID(accountUUID) {
		return []account.Event{}, nil
	}
	rows, _ := s.pool.Query(ctx, listEventsSQL, accountUUID, before, limit)
	found, err := pgx.CollectRows(rows, pgx.RowToStructByName[eventRow])
	if err != nil {
		return nil, translate("list security events", err)
	}
	out := make([]account.Event, len(found))
	for i, r := range found {
		out[i] = account.Event{
			ID: r.ID, AccountUUID: r.AccountUUID, Type: account.EventType(r.Type), CreatedAt: r.CreatedAt.UTC(),
			IPAddress: r.IPAddress, UserAgent: r.UserAgent, SessionID: r.SessionID, RequestID: r.RequestID,
		}
	}
	return out, nil
}
