-- One refresh-token rotation, exactly as SessionStore.Rotate runs it
-- (internal/postgres/sessions.go), for pgbench:
--
--   pgbench -n -M prepared -c C -j 2 -T D -f bench/rotation.sql -D n=0 DB
--
-- Each client owns one token chain. Its token number n starts at 0 (-D n=0)
-- and, because pgbench keeps a client's variables from one transaction to the
-- next, moves one step along the chain per transaction. Token n's hash is
-- sha256(convert_to(client_id || ':' || n, 'UTF8')); accountd-bench seeds one
-- account, one session and token 0 per client before the run.
--
-- The SELECT before BEGIN computes this transaction's parameters (pgbench's
-- own expressions have no strings nor hashes); it is the one round trip that
-- accountd does not make. Everything between BEGIN and COMMIT must stay
-- identical to the Go constants: internal/postgres/rotation_sql_test.go checks
-- it, with the placeholder mapping documented there.
SELECT sha256(convert_to(:client_id::text || ':' || :n::text, 'UTF8')) AS parent_hash,
       sha256(convert_to(:client_id::text || ':' || (:n::bigint + 1)::text, 'UTF8')) AS child_hash,
       now() AS now, now() + interval '7 days' AS expires_at,
       '127.0.0.1' AS ip, 'accountd-bench' AS ua,
       sha512(convert_to(:client_id::text || '/sealed/' || :n::text, 'UTF8')) AS child_sealed
\gset
BEGIN;
-- lockSessionByTokenSQL
SELECT a.disabled FROM sessions s JOIN refresh_tokens rt ON rt.session_id = s.id
JOIN accounts a ON a.uuid = s.account_uuid
WHERE rt.token_hash = :parent_hash AND s.revoked_at IS NULL
FOR UPDATE OF s;
-- useRefreshTokenSQL: \gset fails the transaction unless exactly one row
-- comes back, so a broken chain shows up as failed transactions.
WITH used AS (
    UPDATE refresh_tokens rt SET used_at = :now, child_sealed = :child_sealed
    FROM sessions s
    WHERE rt.token_hash = :parent_hash AND rt.used_at IS NULL AND rt.revoked_at IS NULL AND rt.expires_at > :now
      AND s.id = rt.session_id AND s.revoked_at IS NULL
    RETURNING rt.id, rt.session_id, rt.parent_id),
unsealed AS (
    UPDATE refresh_tokens p SET child_sealed = NULL FROM used WHERE p.id = used.parent_id)
SELECT id, session_id FROM used
\gset parent_
-- insertRefreshTokenSQL
INSERT INTO refresh_tokens (session_id, parent_id, token_hash, ip_address, user_agent, created_at, expires_at)
VALUES (:parent_session_id, :parent_id, :child_hash, :ip, :ua, :now, :expires_at);
-- touchSessionSQL
UPDATE sessions s SET last_used_at = :now, expires_at = :expires_at, ip_address = :ip, user_agent = :ua
WHERE s.id = :parent_session_id
RETURNING s.id, s.account_uuid, s.created_at, s.last_used_at, s.expires_at, s.ip_address, s.user_agent;
COMMIT;
\set n :n + 1
