-- Indexes that keep cleanup cheap on big tables: the sessions it deletes are
-- found by when they ended, and every refresh token it deletes sets its
-- child's parent_id to NULL (ON DELETE SET NULL), which without an index on
-- parent_id is a scan of the whole table per token. Built CONCURRENTLY so that
-- an instance migrating a large database does not block logins and refreshes.
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_ended_at_idx
    ON sessions ((coalesce(revoked_at, expires_at)));
CREATE INDEX CONCURRENTLY IF NOT EXISTS refresh_tokens_parent_id_idx
    ON refresh_tokens (parent_id) WHERE parent_id IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS refresh_tokens_parent_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS sessions_ended_at_idx;
