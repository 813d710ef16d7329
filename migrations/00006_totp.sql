-- +goose Up
-- TOTP secrets, at most one per account: pending until a first code
-- confirms it (confirmed_at). The secret is sealed with AES-256-GCM under a
-- key derived from SECRET_KEY and bound to its account (encrypted is false
-- only when no SECRET_KEY is set). last_step is the time step of the last
-- accepted code: a code is accepted once, and never one of an earlier step.
-- id tells enrolments apart, so that a confirmation confirms the enrolment
-- whose code it checked.
CREATE TABLE totp_secrets (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_uuid uuid        NOT NULL UNIQUE REFERENCES accounts (uuid) ON DELETE CASCADE,
    secret       bytea       NOT NULL,
    encrypted    boolean     NOT NULL,
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    last_step    bigint      NOT NULL DEFAULT 0
);

-- Single-use recovery codes: only the SHA-256 of each (80 random bits) is
-- kept. They go with the account's TOTP.
CREATE TABLE recovery_codes (
    account_uuid uuid        NOT NULL REFERENCES accounts (uuid) ON DELETE CASCADE,
    code_hash    bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    used_at      timestamptz,
    PRIMARY KEY (account_uuid, code_hash)
);

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE totp_secrets;
