-- +goose Up
-- The keys that sign access tokens, shared by every instance. A key is
-- published (in the JWKS) from created_at, signs from activate_at until a
-- later key activates, and is refused from revoked_at; its state is derived
-- from these times (internal/keys/life.go), so no instance has to write
-- anything for a scheduled key to start signing. private_key is PKCS #8,
-- sealed with AES-GCM under a key derived from SECRET_KEY when encrypted.
CREATE TABLE signing_keys (
    kid         text PRIMARY KEY,
    algorithm   text        NOT NULL,
    public_key  bytea       NOT NULL,
    private_key bytea       NOT NULL,
    encrypted   boolean     NOT NULL,
    created_at  timestamptz NOT NULL,
    activate_at timestamptz NOT NULL,
    revoked_at  timestamptz
);

-- One row whose version grows with every change to signing_keys, so that
-- every instance can poll for changes with the cheapest of queries.
CREATE TABLE signing_keys_version (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint  NOT NULL
);
INSERT INTO signing_keys_version (version) VALUES (0);

-- +goose StatementBegin
CREATE FUNCTION signing_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE signing_keys_version SET version = version + 1;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION signing_keys_changed();

-- +goose Down
DROP TABLE signing_keys;
DROP FUNCTION signing_keys_changed();
DROP TABLE signing_keys_version;
