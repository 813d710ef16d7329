-- +goose Up
CREATE TABLE accounts (
    uuid          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id    text        NOT NULL,
    password_hash text        NOT NULL,
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Account ids are unique whatever their case: "John" and "john" are one account.
CREATE UNIQUE INDEX accounts_account_id_lower_key ON accounts (lower(account_id));

CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    account_uuid uuid        NOT NULL REFERENCES accounts (uuid) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ip_address   text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT '',
    revoked_at   timestamptz
);
CREATE INDEX sessions_account_uuid_idx ON sessions (account_uuid);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Only the SHA-256 hash of a refresh token is kept. child_sealed holds the
-- child token sealed with a key derived from this (parent) token, so that
-- clients racing with the parent within the reuse grace get the same child.
CREATE TABLE refresh_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id   uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    parent_id    bigint      REFERENCES refresh_tokens (id) ON DELETE SET NULL,
    token_hash   bytea       NOT NULL UNIQUE,
    ip_address   text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    revoked_at   timestamptz,
    child_sealed bytea
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

-- +goose Down
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE accounts;
