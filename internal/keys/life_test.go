package keys

import (
	"fmt"
	"testing"
	"time"
)

var (
	t0         = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	testPolicy = Policy{Algorithm: ES256, Rotation: 24 * time.Hour, JWKSMaxAge: 10 * time.Minute, TokenTTL: 30 * time.Minute}
)

// applyPlan applies a plan to lives as a store would, naming new keys k1,
// k2, ... in order.
func applyPlan(lives []Life, pl Plan, p Policy, now time.Time) []Life {
	out := []Life{}
	gone := map[string]bool{}
	for _, kid := range pl.Delete {
		gone[kid] = true
	}
	for _, l := range lives {
		if gone[l.ID] {
			continue
		}
		if at, ok := pl.Activate[l.ID]; ok {
			l.ActivateAt = at
		}
		if at, ok := pl.Revoke[l.ID]; ok {
			l.RevokedAt = at
		}
		out = append(out, l)
	}
	for _, at := range pl.Create {
		out = append(out, Life{ID: fmt.Sprintf("k%d", nextID()), Algorithm: p.Algorithm, CreatedAt: now, ActivateAt: at})
	}
	return out
}

var idCounter int

func nextID() int { idCounter++; return idCounter }

func stateOf(t *testing.T, p Policy, lives []Life, now time.Time, kid string) State {
	t.Helper()
	for _, s := range p.StatusAt(lives, now) {
		if s.ID == kid {
			return s.State
		}
	}
	t.Fatalf("no key %s", kid)
	return ""
}

func TestFirstKeySignsAtOnce(t *testing.T) {
	pl := testPolicy.Maintain(nil, t0)
	if len(pl.Create) != 1 || !pl.Create[0].Equal(t0) || pl.Forced {
		t.Fatalf("plan on no keys = %+v, want one key signing now, not forced", pl)
	}
	lives := applyPlan(nil, pl, testPolicy, t0)
	if cur, ok := testPolicy.Current(lives, t0); !ok || cur.ID != lives[0].ID {
		t.Fatalf("current = %v %v, want the new key", cur, ok)
	}
	if testPolicy.Due(lives, t0) {
		t.Fatalf("maintenance due right after the first key")
	}
}

func TestAutomaticRotationPublishesBeforeSigning(t *testing.T) {
	p := testPolicy
	lives := []Life{{ID: "a", Algorithm: ES256, CreatedAt: t0, ActivateAt: t0}}
	beforeDue := t0.Add(p.Rotation - p.PublishBeforeSign() - time.Second)
	if p.Due(lives, beforeDue) {
		t.Fatalf("rotation due at %v, before rotation - 2 x max age", beforeDue)
	}
	due := t0.Add(p.Rotation - p.PublishBeforeSign())
	pl := p.Maintain(lives, due)
	if len(pl.Create) != 1 || !pl.Create[0].Equal(t0.Add(p.Rotation)) || pl.Forced {
		t.Fatalf("plan at %v = %+v, want a next key signing at %v", due, pl, t0.Add(p.Rotation))
	}
	lives = applyPlan(lives, pl, p, due)
	b := lives[1].ID
	if got := stateOf(t, p, lives, due, b); got != StateNext {
		t.Fatalf("new key state = %s, want next", got)
	}
	if p.Due(lives, due.Add(time.Minute)) {
		t.Fatalf("another rotation due while a next key waits")
	}
	swap := t0.Add(p.Rotation)
	if got := stateOf(t, p, lives, swap.Add(-time.Nanosecond), b); got != StateNext {
		t.Fatalf("state just before its time = %s, want next", got)
	}
	if got := stateOf(t, p, lives, swap, b); got != StateCurrent {
		t.Fatalf("state at its time = %s, want current", got)
	}
	var old Status
	for _, s := range p.StatusAt(lives, swap) {
		if s.ID == "a" {
			old = s
		}
	}
	if old.State != StateRetired || !old.RetiredAt.Equal(swap) || !old.Until.Equal(swap.Add(p.Retention())) {
		t.Fatalf("old key = %+v, want retired at %v until %v", old, swap, swap.Add(p.Retention()))
	}
	gone := swap.Add(p.Retention())
	if got := stateOf(t, p, lives, gone.Add(-time.Nanosecond), "a"); got != StateRetired {
		t.Fatalf("old key before its tokens expired = %s, want retired (published)", got)
	}
	pl = p.Maintain(lives, gone)
	if len(pl.Delete) != 1 || pl.Delete[0] != "a" {
		t.Fatalf("plan once its tokens expired = %+v, want a deleted", pl)
	}
}

// TestLifeSimulation steps a clock through many rotations, maintaining at
// every step as instances do, and checks the promises of the key life: one
// current key at a time; the current key was in every JWKS a verifier may
// still have cached (fetched up to JWKS_MAX_AGE ago, i.e. it was published
// 2 x JWKS_MAX_AGE before it signs, whatever the fetch time); and every
// unexpired token's key is published.
func TestLifeSimulation(t *testing.T) {
	p := Policy{Algorithm: ES256, Rotation: 3 * time.Hour, JWKSMaxAge: 15 * time.Minute, TokenTTL: time.Hour}
	step := time.Minute
	type token struct {
		kid string
		exp time.Time
	}
	var (
		lives    []Life
		tokens   []token
		fetched  = map[time.Time]map[string]bool{} // JWKS as fetched at each step
		keysSeen = map[string]bool{}
	)
	for now := t0; now.Before(t0.Add(30 * time.Hour)); now = now.Add(step) {
		lives = applyPlan(lives, p.Maintain(lives, now), p, now)
		published := map[string]bool{}
		current := 0
		var signer string
		for _, s := range p.StatusAt(lives, now) {
			if s.Published() {
				published[s.ID] = true
			}
			if s.State == StateCurrent {
				current++
				signer = s.ID
			}
		}
		if current != 1 {
			t.Fatalf("%v: %d current keys, want 1", now, current)
		}
		fetched[now] = published
		keysSeen[signer] = true
		if now.Sub(t0) > p.JWKSMaxAge {
			if old := fetched[now.Add(-p.JWKSMaxAge)]; !old[signer] {
				t.Fatalf("%v: key %s signs but a JWKS fetched %v ago lacks it", now, signer, p.JWKSMaxAge)
			}
		}
		tokens = append(tokens, token{kid: signer, exp: now.Add(p.TokenTTL)})
		for _, tk := range tokens {
			if now.Before(tk.exp) && !published[tk.kid] {
				t.Fatalf("%v: token of %s, valid until %v, has its key unpublished", now, tk.kid, tk.exp)
			}
		}
		if len(published) > 3 {
			t.Fatalf("%v: %d keys published, want at most 3 (next, current, retired)", now, len(published))
		}
	}
	if len(keysSeen) < 9 {
		t.Fatalf("%d keys signed in 30h with a 3h rotation, want at least 9", len(keysSeen))
	}
}

func TestManualRotation(t *testing.T) {
	p := testPolicy
	p.Rotation = 0
	lives := []Life{{ID: "a", Algorithm: ES256, CreatedAt: t0, ActivateAt: t0}}
	now := t0.Add(1000 * time.Hour)
	if p.Due(lives, now) {
		t.Fatalf("rotation due with SIGNING_KEY_ROTATION=0")
	}
	pl := p.Rotate(lives, now, false)
	if len(pl.Create) != 1 || !pl.Create[0].Equal(now.Add(p.PublishBeforeSign())) || pl.Forced {
		t.Fatalf("rotate = %+v, want a next key signing after 2 x max age", pl)
	}
	lives = applyPlan(lives, pl, p, now)
	if again := p.Rotate(lives, now.Add(time.Minute), false); !again.Empty() {
		t.Fatalf("second rotate = %+v, want nothing while a next key waits", again)
	}
	now2 := now.Add(time.Minute)
	pl = p.Rotate(lives, now2, true)
	if !pl.Forced || !pl.Activate[lives[1].ID].Equal(now2) {
		t.Fatalf("rotate --now = %+v, want the next key activated now, forced", pl)
	}
	lives = applyPlan(lives, pl, p, now2)
	if cur, _ := p.Current(lives, now2); cur.ID != lives[1].ID {
		t.Fatalf("current after rotate --now = %s, want %s", cur.ID, lives[1].ID)
	}
	pl = p.Rotate(lives, now2, true)
	if len(pl.Create) != 1 || !pl.Create[0].Equal(now2) || !pl.Forced {
		t.Fatalf("rotate --now with no next key = %+v, want a new key signing now", pl)
	}
}

func TestRevokeCurrentKeyTakesOverAtOnce(t *testing.T) {
	p := testPolicy
	lives := []Life{
		{ID: "a", Algorithm: ES256, CreatedAt: t0, ActivateAt: t0},
		{ID: "b", Algorithm: ES256, CreatedAt: t0.Add(time.Hour), ActivateAt: t0.Add(2 * time.Hour)},
	}
	now := t0.Add(2*time.Hour + 10*time.Minute) // b current, a retired
	pl, ok := p.Revoke(lives, now, "b")
	if !ok || !pl.Revoke["b"].Equal(now) || len(pl.Create) != 1 || !pl.Create[0].Equal(now) || !pl.Forced {
		t.Fatalf("revoke current = %+v %v, want b revoked and a new key signing now", pl, ok)
	}
	lives = applyPlan(lives, pl, p, now)
	if got := stateOf(t, p, lives, now, "a"); got != StateRetired {
		t.Fatalf("a after b's revocation = %s, want still retired (never current again)", got)
	}
	if got := stateOf(t, p, lives, now, "b"); got != StateRevoked {
		t.Fatalf("b = %s, want revoked", got)
	}
	if cur, _ := p.Current(lives, now); cur.ID != lives[2].ID {
		t.Fatalf("current = %s, want the new key", cur.ID)
	}
	if _, ok := p.Revoke(lives, now, "b"); ok {
		t.Fatalf("revoking b twice succeeded")
	}
	if _, ok := p.Revoke(lives, now, "nope"); ok {
		t.Fatalf("revoking an unknown kid succeeded")
	}
	// A revoked key is known (refused as revoked) until its tokens expired.
	if got := stateOf(t, p, lives, now.Add(p.Retention()), "b"); got != StateGone {
		t.Fatalf("b after retention = %s, want gone", got)
	}
}

func TestRevokeCurrentPrefersThePublishedNextKey(t *testing.T) {
	p := testPolicy
	lives := []Life{
		{ID: "a", Algorithm: ES256, CreatedAt: t0, ActivateAt: t0},
		{ID: "n", Algorithm: ES256, CreatedAt: t0.Add(time.Hour), ActivateAt: t0.Add(5 * time.Hour)},
	}
	now := t0.Add(2 * time.Hour)
	pl, _ := p.Revoke(lives, now, "a")
	if len(pl.Create) != 0 || !pl.Activate["n"].Equal(now) {
		t.Fatalf("plan = %+v, want the next key n activated now", pl)
	}
}

func TestRevokeNextKeyDoesNotRetireTheCurrent(t *testing.T) {
	p := testPolicy
	lives := []Life{
		{ID: "a", Algorithm: ES256, CreatedAt: t0, ActivateAt: t0},
		{ID: "n", Algorithm: ES256, CreatedAt: t0.Add(time.Hour), ActivateAt: t0.Add(2 * time.Hour), RevokedAt: t0.Add(90 * time.Minute)},
	}
	now := t0.Add(3 * time.Hour)
	if got := stateOf(t, p, lives, now, "a"); got != StateCurrent {
		t.Fatalf("a = %s, want current: the revoked next key never signed", got)
	}
}

func TestAlgorithmChangeRotates(t *testing.T) {
	p := testPolicy
	p.Algorithm = EdDSA
	lives := []Life{{ID: "a", Algorithm: ES256, CreatedAt: t0, ActivateAt: t0}}
	now := t0.Add(time.Minute)
	pl := p.Maintain(lives, now)
	if len(pl.Create) != 1 || !pl.Create[0].Equal(now.Add(p.PublishBeforeSign())) || pl.Forced {
		t.Fatalf("plan = %+v, want an EdDSA next key published 2 x max age before it signs", pl)
	}
}

func TestForcedWhenNoCurrentKey(t *testing.T) {
	p := testPolicy
	lives := []Life{{ID: "a", Algorithm: ES256, CreatedAt: t0, ActivateAt: t0, RevokedAt: t0.Add(time.Minute)}}
	pl := p.Maintain(lives, t0.Add(2*time.Minute))
	if len(pl.Create) != 1 || !pl.Forced {
		t.Fatalf("plan = %+v, want a new key at once, forced", pl)
	}
}
