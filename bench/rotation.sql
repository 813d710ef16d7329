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
-- The SELECT first computes this rotation's parameters (pgbench's own
-- expressions have no strings nor hashes); it is the one round trip that
-- accountd does not make. The rotation after it must stay identical to the
-- Go constant: internal/postgres/rotation_sql_test.go checks it, with the
-- placeholder mapping documented there.
SELECT sha256(convert_to(:client_id::text || ':' || :n::text, 'UTF8')) AS parent_hash,
       sha256(convert_to(:client_id::text || ':' || (:n::bigint + 1)::text, 'UTF8')) AS child_hash,
       now() AS now, now() + interval '7 days' AS expires_at,
       '127.0.0.1' AS ip, 'accountd-bench' AS ua,
       sha512(convert_to(:client_id::text || '/sealed/' || :n::text, 'UTF8')) AS child_sealed,
       2592000000000 AS session_lifetime_us
\gset
-- rotateSQL: one statement, so one round trip, as in Go.
WITH locked AS (
    SELECT s.id, a.disabled, s.created_at + :session_lifetime_us * interval '1 microsecond' AS ends_at
    FROM sessions s JOIN refresh_tokens rt ON rt.session_id = s.id JOIN accounts a ON a.uuid = s.account_uuid
    WHERE rt.token_hash = :parent_hash AND s.revoked_at IS NULL
    FOR UPDATE OF s),
used AS (
    UPDATE refresh_tokens rt SET used_at = :now, child_sealed = :child_sealed
    FROM locked
    WHERE rt.token_hash = :parent_hash AND rt.session_id = locked.id AND NOT locked.disabled AND locked.ends_at > :now
      AND rt.used_at IS NULL AND rt.revoked_at IS NULL AND rt.expires_at > :now
    RETURNING rt.id, rt.session_id, rt.parent_id, least(:expires_at::timestamptz, locked.ends_at) AS expires_at),
unsealed AS (
    UPDATE refresh_tokens p SET child_sealed = NULL FROM used WHERE p.id = used.parent_id),
child AS (
    INSERT INTO refresh_tokens (session_id, parent_id, token_hash, ip_address, user_agent, created_at, expires_at)
    SELECT used.session_id, used.id, :child_hash, :ip, :ua, :now, used.expires_at FROM used),
touched AS (
    UPDATE sessions s SET last_used_at = :now, expires_at = used.expires_at, ip_address = :ip, user_agent = :ua
    FROM used WHERE s.id = used.session_id
    RETURNING s.id, s.account_uuid, s.created_at, s.last_used_at, s.expires_at, s.ip_address, s.user_agent, s.amr)
SELECT locked.disabled, locked.ends_at, touched.id IS NOT NULL AS rotated,
       coalesce(touched.id::text, '') AS id, coalesce(touched.account_uuid::text, '') AS account_uuid,
       coalesce(touched.created_at, locked.ends_at) AS created_at,
       coalesce(touched.last_used_at, locked.ends_at) AS last_used_at,
       coalesce(touched.expires_at, locked.ends_at) AS expires_at,
       coalesce(touched.ip_address, '') AS ip_address, coalesce(touched.user_agent, '') AS user_agent,
       coalesce(touched.amr, '{}') AS amr
FROM locked LEFT JOIN touched ON true;
\set n :n + 1
