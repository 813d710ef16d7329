package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/keys"
)

var _ keys.Store = (*KeyStore)(nil)

// KeyStore keeps the signing keys of every instance in the signing_keys
// table; signing_keys_version, bumped by a trigger on every change, is what
// instances poll.
type KeyStore struct {
	pool *pgxpool.Pool
}

// NewKeyStore returns a KeyStore that uses pool.
func NewKeyStore(pool *pgxpool.Pool) *KeyStore { return &KeyStore{pool: pool} }

// keysLock is the advisory lock under which instances change the keys:
// N instances starting at once on one database make one first key.
const keysLock int64 = 0x6b657973 // "keys"

const (
	keyVersionSQL = `SELECT version FROM signing_keys_version`

	lockKeysSQL = `SELECT pg_advisory_xact_lock($1)`

	selectKeysSQL = `
SELECT kid, algorithm, public_key, private_key, encrypted, created_at, activate_at, revoked_at
FROM signing_keys ORDER BY activate_at, created_at, kid`

	insertKeySQL = `
INSERT INTO signing_keys (kid, algorithm, public_key, private_key, encrypted, created_at, activate_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

	activateKeySQL = `UPDATE signing_keys SET activate_at = $2 WHERE kid = $1`

	revokeKeySQL = `UPDATE signing_keys SET revoked_at = $2 WHERE kid = $1 AND revoked_at IS NULL`

	deleteKeysSQL = `DELETE FROM signing_keys WHERE kid = ANY($1)`
)

// keyRow is one row of signing_keys.
type keyRow struct {
	Kid        string     `db:"kid"`
	Algorithm  string     `db:"algorithm"`
	PublicKey  []byte     `db:"public_key"`
	PrivateKey []byte     `db:"private_key"`
	Encrypted  bool       `db:"encrypted"`
	CreatedAt  time.Time  `db:"created_at"`
	ActivateAt time.Time  `db:"activate_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
}

func (r keyRow) record() keys.Record {
	rec := keys.Record{
		Life: keys.Life{
			ID: r.Kid, Algorithm: r.Algorithm, CreatedAt: r.CreatedAt.UTC(), ActivateAt: r.ActivateAt.UTC(),
		},
		PublicKey: r.PublicKey, PrivateKey: r.PrivateKey, Encrypted: r.Encrypted,
	}
	if r.RevokedAt != nil {
		rec.RevokedAt = r.RevokedAt.UTC()
	}
	return rec
}

// Version returns the version of the stored keys: one row, one column.
func (s *KeyStore) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, keyVersionSQL).Scan(&v); err != nil {
		return 0, translate("read signing key version", err)
	}
	return v, nil
}

// Records returns every key and the version they are at, read in one
// snapshot.
func (s *KeyStore) Records(ctx context.Context) ([]keys.Record, int64, error) {
	var (
		list    []keys.Record
		version int64
	)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			var err error
			list, err = readKeys(ctx, tx)
			if err != nil {
				return err
			}
			return tx.QueryRow(ctx, keyVersionSQL).Scan(&version)
		})
	if err != nil {
		return nil, 0, translate("read signing keys", err)
	}
	return list, version, nil
}

func readKeys(ctx context.Context, tx pgx.Tx) ([]keys.Record, error) {
	rows, _ := tx.Query(ctx, selectKeysSQL)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[keyRow])
	if err != nil {
		return nil, err
	}
	out := make([]keys.Record, len(list))
	for i, r := range list {
		out[i] = r.record()
	}
	return out, nil
}

// Change decides and writes a change of the keys in one transaction that
// holds the keys' advisory lock: an instance that waited for the lock
// decides on what the one before it wrote.
func (s *KeyStore) Change(ctx context.Context, decide func([]keys.Record) (keys.Changes, error)) (keys.Changes, error) {
	var c keys.Changes
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockKeysSQL, keysLock); err != nil {
			return err
		}
		list, err := readKeys(ctx, tx)
		if err != nil {
			return err
		}
		if c, err = decide(list); err != nil {
			return err
		}
		return writeChanges(ctx, tx, c)
	})
	if err != nil {
		return keys.Changes{}, translate("change signing keys", err)
	}
	return c, nil
}

func writeChanges(ctx context.Context, tx pgx.Tx, c keys.Changes) error {
	if c.Empty() {
		return nil
	}
	b := &pgx.Batch{}
	for _, r := range c.Insert {
		b.Queue(insertKeySQL, r.ID, r.Algorithm, r.PublicKey, r.PrivateKey, r.Encrypted, r.CreatedAt, r.ActivateAt)
	}
	for kid, at := range c.Activate {
		b.Queue(activateKeySQL, kid, at)
	}
	for kid, at := range c.Revoke {
		b.Queue(revokeKeySQL, kid, at)
	}
	if len(c.Delete) > 0 {
		b.Queue(deleteKeysSQL, c.Delete)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write signing keys: %w", err)
	}
	return nil
}
