package redis

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
)

var _ account.MFAChallenges = (*MFAChallenges)(nil)

// MFAChallenges keeps the logins that wait for their second factor in
// Redis, so that the second step may reach any instance. Each is a hash
// under prefix+"mfa:"+hex(sha256(mfa_token)); the token itself is never
// stored. Redis forgets a challenge at its TTL; the domain also checks its
// expiry against its own clock.
type MFAChallenges struct {
	client goredis.UniversalClient
	prefix string
}

// NewMFAChallenges returns MFAChallenges that keep their hashes under
// prefix.
func NewMFAChallenges(client goredis.UniversalClient, prefix string) *MFAChallenges {
	return &MFAChallenges{client: client, prefix: prefix}
}

func (m *MFAChallenges) key(hash []byte) string { return m.prefix + "mfa:" + hex.EncodeToString(hash) }

// Fields of a challenge's hash.
const (
	fieldAccount     = "account"
	fieldFingerprint = "password"
	fieldExpires     = "expires"
	fieldFailures    = "failures"
)

// Put stores c under hash, forgotten after ttl.
func (m *MFAChallenges) Put(ctx context.Context, hash []byte, c account.MFAChallenge, ttl time.Duration) error {
	key := m.key(hash)
	_, err := m.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, key, fieldAccount, c.AccountUUID, fieldFingerprint, hex.EncodeToString(c.PasswordFingerprint),
			fieldExpires, strconv.FormatInt(c.ExpiresAt.UnixNano(), 10), fieldFailures, 0)
		p.PExpire(ctx, key, ttl)
		return nil
	})
	return wrapUnavailable("store mfa challenge", err)
}

// errMalformedChallenge is a hash that this code did not write.
var errMalformedChallenge = errors.New("malformed mfa challenge")

// Get returns the challenge under hash. It returns account.ErrNotFound when
// there is none, and account.ErrUnavailable when Redis cannot be reached.
func (m *MFAChallenges) Get(ctx context.Context, hash []byte) (account.MFAChallenge, error) {
	fields, err := m.client.HGetAll(ctx, m.key(hash)).Result()
	if err != nil {
		return account.MFAChallenge{}, wrapUnavailable("find mfa challenge", err)
	}
	if len(fields) == 0 {
		return account.MFAChallenge{}, account.ErrNotFound
	}
	fp, err1 := hex.DecodeString(fields[fieldFingerprint])
	exp, err2 := strconv.ParseInt(fields[fieldExpires], 10, 64)
	if err1 != nil || err2 != nil || fields[fieldAccount] == "" {
		return account.MFAChallenge{}, errMalformedChallenge
	}
	return account.MFAChallenge{
		AccountUUID: fields[fieldAccount], PasswordFingerprint: fp, ExpiresAt: time.Unix(0, exp).UTC(),
	}, nil
}

// failScript counts a failure against an existing challenge and deletes it
// with the ARGV[1]-th, in one step: -1 when there was none.
var failScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if n >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
end
return n`)

// Fail counts a wrong code and deletes the challenge with the
// maxFailures-th. It returns account.ErrNotFound when there is none.
func (m *MFAChallenges) Fail(ctx context.Context, hash []byte, maxFailures int) error {
	n, err := failScript.Run(ctx, m.client, []string{m.key(hash)}, maxFailures).Int()
	if err != nil {
		return wrapUnavailable("count mfa failure", err)
	}
	if n < 0 {
		return account.ErrNotFound
	}
	return nil
}

// Take deletes the challenge: of racing callers one alone gets nil, the
// others account.ErrNotFound.
func (m *MFAChallenges) Take(ctx context.Context, hash []byte) error {
	n, err := m.client.Del(ctx, m.key(hash)).Result()
	if err != nil {
		return wrapUnavailable("take mfa challenge", err)
	}
	if n == 0 {
		return account.ErrNotFound
	}
	return nil
}
