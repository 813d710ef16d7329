-- +goose Up
-- The security history of each account, newest first by id. It goes with
-- its account (ON DELETE CASCADE) and is kept for AUDIT_RETENTION.
CREATE TABLE security_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_uuid uuid        NOT NULL REFERENCES accounts (uuid) ON DELETE CASCADE,
    type         text        NOT NULL,
    created_at   timestamptz NOT NULL,
    ip_address   text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT '',
    session_id   uuid,
    request_id   text        NOT NULL DEFAULT ''
);
-- Keyset pagination: WHERE account_uuid = $1 AND id < $2 ORDER BY id DESC.
CREATE INDEX security_events_account_id_idx ON security_events (account_uuid, id DESC);
CREATE INDEX security_events_created_at_idx ON security_events (created_at);

-- Deleting an account deletes its sessions, and with them their revoked_at,
-- which is the durable record of revocations that every instance polls.
-- The deletion leaves a tombstone here for each of its sessions, in the same
-- transaction, so that the revocation outlives the rows.
CREATE TABLE revoked_sessions (
    session_id uuid PRIMARY KEY,
    revoked_at timestamptz NOT NULL
);
CREATE INDEX revoked_sessions_revoked_at_idx ON revoked_sessions (revoked_at);

-- +goose Down
DROP TABLE revoked_sessions;
DROP TABLE security_events;
