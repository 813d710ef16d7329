-- The minimal refresh-token rotation, a fixed reference for make bench
-- (issue 10): mark one token used, insert its child, two statements in one
-- transaction. It does not follow accountd's own SQL (bench/rotation.sql
-- does); it stays as it is, so that the ratio against it shows what
-- accountd's rotation costs beyond the least a rotation must do.
--
--   pgbench -n -M prepared -c 32 -j 2 -T D -f bench/rotation_minimal.sql -D n=0 DB
--
-- Each client owns one token chain, seeded as for bench/rotation.sql: one
-- account, one session and token 0 per client. Its token number n starts at 0
-- (-D n=0) and moves one step along the chain per transaction; token n's hash
-- is sha256(convert_to(client_id || ':' || n, 'UTF8')).
--
-- The SELECT first computes the two hashes, as bench/rotation.sql does
-- (pgbench's own expressions have no strings nor hashes). That is one round
-- trip more than the rotation needs, in both scripts alike; accountd computes
-- its hashes in Go. Then BEGIN, UPDATE, INSERT and COMMIT: four round trips.
-- The UPDATE must find the token unused, or \gset stops the client (it wants
-- one row): so every transaction counted is one rotation.
SELECT sha256(convert_to(:client_id::text || ':' || :n::text, 'UTF8')) AS parent_hash,
       sha256(convert_to(:client_id::text || ':' || (:n::bigint + 1)::text, 'UTF8')) AS child_hash
\gset
BEGIN;
UPDATE refresh_tokens SET used_at = now()
WHERE token_hash = :parent_hash AND used_at IS NULL
RETURNING id AS parent_id, session_id
\gset
INSERT INTO refresh_tokens (session_id, parent_id, token_hash, ip_address, user_agent, created_at, expires_at)
VALUES (:session_id, :parent_id, :child_hash, '127.0.0.1', 'accountd-bench', now(), now() + interval '7 days');
COMMIT;
\set n :n + 1
