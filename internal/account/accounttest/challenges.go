package accounttest

import (
	"context"
	"sync"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// Challenges is an in-memory account.MFAChallenges with the semantics of
// the Redis one: a challenge is forgotten ttl after Put by its clock, and
// deleted with its last allowed failure. It is safe for concurrent use.
type Challenges struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*challengeRow
}

type challengeRow struct {
	account.MFAChallenge
	failures int
	forgetAt time.Time
}

var _ account.MFAChallenges = (*Challenges)(nil)

// NewChallenges returns an empty Challenges on the clock now.
func NewChallenges(now func() time.Time) *Challenges {
	return &Challenges{now: now, m: make(map[string]*challengeRow)}
}

// Put stores c under hash until ttl has passed.
func (s *Challenges) Put(_ context.Context, hash []byte, c account.MFAChallenge, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[string(hash)] = &challengeRow{MFAChallenge: c, forgetAt: s.now().Add(ttl)}
	return nil
}

// row returns the live challenge of hash, or nil. The caller holds s.mu.
func (s *Challenges) row(hash []byte) *challengeRow {
	r := s.m[string(hash)]
	if r != nil && !s.now().Before(r.forgetAt) {
		delete(s.m, string(hash))
		return nil
	}
	return r
}

// Get returns the challenge of hash. It returns account.ErrNotFound when
// there is none.
func (s *Challenges) Get(_ context.Context, hash []byte) (account.MFAChallenge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.row(hash)
	if r == nil {
		return account.MFAChallenge{}, account.ErrNotFound
	}
	return r.MFAChallenge, nil
}

// Fail counts a failure and deletes the challenge with the maxFailures-th.
// It returns account.ErrNotFound when there is no such challenge.
func (s *Challenges) Fail(_ context.Context, hash []byte, maxFailures int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.row(hash)
	if r == nil {
		return account.ErrNotFound
	}
	r.failures++
	if r.failures >= maxFailures {
		delete(s.m, string(hash))
	}
	return nil
}

// Take deletes the challenge. It returns account.ErrNotFound when there is
// no such challenge.
func (s *Challenges) Take(_ context.Context, hash []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.row(hash) == nil {
		return account.ErrNotFound
	}
	delete(s.m, string(hash))
	return nil
}

// Len returns how many challenges are stored: for tests.
func (s *Challenges) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
