package keys

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Config is what a Manager and a Set need.
type Config struct {
	Policy Policy
	Cipher *Cipher
	Store  Store
	// Feed, when set, announces changes to other instances and brings
	// theirs; without it, changes are learnt by polling the Store alone.
	Feed Feed
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Cipher == nil {
		c.Cipher = &Cipher{}
	}
	return c
}

// Manager carries the key life out on the Store: the automatic maintenance
// that every instance runs, and the rotations and revocations of operators.
// Each change is decided and written under the Store's lock, on the keys
// as they are then, so that instances that act at once agree.
type Manager struct {
	cfg Config
}

// NewManager returns a Manager for c.
func NewManager(c Config) *Manager { return &Manager{cfg: c.withDefaults()} }

// Policy returns the policy the manager follows.
func (m *Manager) Policy() Policy { return m.cfg.Policy }

// Triggers of a change, as security events name them.
const (
	triggerAuto       = "auto"
	triggerOperator   = "operator"
	triggerRevocation = "revocation"
)

// Maintain applies Policy.Maintain to the stored keys.
func (m *Manager) Maintain(ctx context.Context) (Changes, error) {
	return m.change(ctx, triggerAuto, func(l []Life, now time.Time) (Plan, error) {
		return m.cfg.Policy.Maintain(l, now), nil
	})
}

// Rotate applies Policy.Rotate and returns the status of the key that
// signs next (or, with immediate, now).
func (m *Manager) Rotate(ctx context.Context, immediate bool) (Status, error) {
	if _, err := m.change(ctx, triggerOperator, func(l []Life, now time.Time) (Plan, error) {
		return m.cfg.Policy.Rotate(l, now, immediate), nil
	}); err != nil {
		return Status{}, err
	}
	list, err := m.List(ctx)
	if err != nil {
		return Status{}, err
	}
	want := StateNext
	if immediate {
		want = StateCurrent
	}
	for _, s := range list {
		if s.State == want {
			return s, nil
		}
	}
	return Status{}, fmt.Errorf("rotate: no %s key after the rotation", want)
}

// Revoke applies Policy.Revoke: the key's tokens are refused and it leaves
// the JWKS on every instance within a second. It returns ErrNotFound when
// no unrevoked key has that kid.
func (m *Manager) Revoke(ctx context.Context, kid string) error {
	_, err := m.change(ctx, triggerRevocation, func(l []Life, now time.Time) (Plan, error) {
		pl, ok := m.cfg.Policy.Revoke(l, now, kid)
		if !ok {
			return Plan{}, ErrNotFound
		}
		return pl, nil
	})
	return err
}

// List returns the status of every stored key, oldest first.
func (m *Manager) List(ctx context.Context) ([]Status, error) {
	records, _, err := m.cfg.Store.Records(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	list := m.cfg.Policy.StatusAt(lives(records), m.cfg.Now())
	slices.SortFunc(list, func(a, b Status) int {
		if a.before(b.Life) {
			return -1
		}
		return 1
	})
	return list, nil
}

// change decides and writes one change under the store's lock, announces
// it and logs its security events.
func (m *Manager) change(ctx context.Context, trigger string, decide func([]Life, time.Time) (Plan, error)) (Changes, error) {
	var plan Plan
	ch, err := m.cfg.Store.Change(ctx, func(records []Record) (Changes, error) {
		now := m.cfg.Now()
		p, err := decide(lives(records), now)
		if err != nil {
			return Changes{}, err
		}
		plan = p
		return m.changes(p, now)
	})
	if err != nil {
		return Changes{}, fmt.Errorf("change signing keys: %w", err)
	}
	if ch.Empty() {
		return ch, nil
	}
	if m.cfg.Feed != nil {
		if err := m.cfg.Feed.Announce(ctx); err != nil {
			m.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "signing key change not announced; instances learn it by polling",
				slog.String("error", err.Error()))
		}
	}
	m.logChanges(ctx, trigger, plan, ch)
	return ch, nil
}

// changes turns a plan into what the store writes, making its new keys.
func (m *Manager) changes(p Plan, now time.Time) (Changes, error) {
	c := Changes{Activate: p.Activate, Revoke: p.Revoke, Delete: p.Delete}
	for _, at := range p.Create {
		r, err := NewRecord(m.cfg.Policy.Algorithm, now, at, m.cfg.Cipher)
		if err != nil {
			return Changes{}, err
		}
		c.Insert = append(c.Insert, r)
	}
	return c, nil
}

func (m *Manager) logChanges(ctx context.Context, trigger string, p Plan, c Changes) {
	level := slog.LevelInfo
	msg := "signing key rotated"
	if p.Forced {
		level = slog.LevelWarn
		msg = "signing key rotated at once: verifiers with a cached JWKS may not know it yet"
	}
	rotated := func(kid string, at time.Time) {
		m.cfg.Log.LogAttrs(ctx, level, msg, slog.String("event", "signing_key_rotated"),
			slog.String("kid", kid), slog.Time("activate_at", at), slog.String("trigger", trigger),
			slog.Bool("forced", p.Forced))
	}
	for _, r := range c.Insert {
		rotated(r.ID, r.ActivateAt)
	}
	for kid, at := range c.Activate {
		rotated(kid, at)
	}
	for kid := range c.Revoke {
		m.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "signing key revoked", slog.String("event", "signing_key_revoked"),
			slog.String("kid", kid))
	}
	for _, kid := range c.Delete {
		m.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "signing key deleted", slog.String("event", "signing_key_deleted"),
			slog.String("kid", kid))
	}
}
