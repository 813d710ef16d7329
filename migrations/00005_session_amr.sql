-- +goose Up
-- How the login that started each session authenticated (RFC 8176 amr
-- values); every access token of the session carries it. Sessions from
-- before second factors were all password logins.
ALTER TABLE sessions ADD COLUMN amr text[] NOT NULL DEFAULT '{pwd}';

-- +goose Down
ALTER TABLE sessions DROP COLUMN amr;
