-- +goose Up
-- The WebAuthn user handle of each account that has started registering a
-- passkey: 64 random bytes, as the WebAuthn specification recommends, not
-- the account's uuid. The authenticator keeps the handle beside the
-- credential and hands it to any page of the relying party that asks for a
-- login; a random handle tells that page nothing (the uuid is the `sub` of
-- every access token and shows in logs and other services), and a deleted
-- account's handle, gone with its row, never names a later account.
CREATE TABLE webauthn_users (
    account_uuid uuid  PRIMARY KEY REFERENCES accounts (uuid) ON DELETE CASCADE,
    user_handle  bytea NOT NULL UNIQUE
);

-- One row per passkey (a WebAuthn credential record): id is the credential
-- id the authenticator chose, public_key its COSE key. sign_count is the
-- authenticator's signature counter at the last use (0 for authenticators
-- that keep none); a login whose counter does not grow is refused as a
-- replay or a clone. The backup flags must stay as registration saw them
-- for backup eligibility, and are updated at each login for backup state.
CREATE TABLE passkeys (
    id                 bytea PRIMARY KEY,
    account_uuid       uuid        NOT NULL REFERENCES accounts (uuid) ON DELETE CASCADE,
    name               text        NOT NULL,
    public_key         bytea       NOT NULL,
    sign_count         bigint      NOT NULL DEFAULT 0 CHECK (sign_count BETWEEN 0 AND 4294967295),
    aaguid             bytea       NOT NULL,
    transports         text[]      NOT NULL DEFAULT '{}',
    attestation_format text        NOT NULL DEFAULT '',
    backup_eligible    boolean     NOT NULL DEFAULT false,
    backup_state       boolean     NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL,
    last_used_at       timestamptz
);
CREATE INDEX passkeys_account_uuid_idx ON passkeys (account_uuid);

-- +goose Down
DROP TABLE passkeys;
DROP TABLE webauthn_users;
