package keys

import (
	"slices"
	"time"
)

// State is where a key is in its life.
type State string

// The states of a key. A key is published (in the JWKS) while it is next,
// current or retired; only the current key signs.
const (
	StateNext    State = "next"    // published, not signing yet
	StateCurrent State = "current" // signing; exactly one at a time
	StateRetired State = "retired" // published until every token it signed has expired
	StateRevoked State = "revoked" // refused at once, unpublished
	StateGone    State = "gone"    // past its life; deleted at the next maintenance
)

// States lists every state, in the order of a key's life.
var States = []State{StateNext, StateCurrent, StateRetired, StateRevoked, StateGone}

// RetireMargin is how long after its tokens' lifetime a retired key stays
// published: room for clocks that disagree and for verifiers' leeway.
const RetireMargin = time.Minute

// Policy is the configuration the key life follows.
type Policy struct {
	// Algorithm is what new keys use: ES256, EdDSA or RS256.
	Algorithm string
	// Rotation is how long a key signs before the next one takes over; 0
	// rotates only by hand.
	Rotation time.Duration
	// JWKSMaxAge is how long verifiers may cache the JWKS.
	JWKSMaxAge time.Duration
	// TokenTTL is the lifetime of the tokens a key signs.
	TokenTTL time.Duration
}

// PublishBeforeSign is how long a key is published before it may sign: two
// cache lifetimes of the JWKS, so that a verifier that fetched it just
// before the key appeared has fetched it again since.
func (p Policy) PublishBeforeSign() time.Duration { return 2 * p.JWKSMaxAge }

// Retention is how long a key stays published after it stopped signing (or
// a revoked key stays known): until every token it signed has expired.
func (p Policy) Retention() time.Duration { return p.TokenTTL + RetireMargin }

// Life is when a key is published, signs and is revoked: everything its
// state is derived from. A key is published from CreatedAt and signs from
// ActivateAt until a key with a later ActivateAt takes over.
type Life struct {
	ID         string // the kid
	Algorithm  string
	CreatedAt  time.Time
	ActivateAt time.Time
	RevokedAt  time.Time // zero unless revoked
}

// Revoked reports whether the key was revoked.
func (l Life) Revoked() bool { return !l.RevokedAt.IsZero() }

// before orders keys by when they activate (ties by creation, then kid), so
// that every instance picks the same current key.
func (l Life) before(o Life) bool {
	if !l.ActivateAt.Equal(o.ActivateAt) {
		return l.ActivateAt.Before(o.ActivateAt)
	}
	if !l.CreatedAt.Equal(o.CreatedAt) {
		return l.CreatedAt.Before(o.CreatedAt)
	}
	return l.ID < o.ID
}

// signed reports whether the key has signed by now: it activated before
// it was revoked, if it was.
func (l Life) signed(now time.Time) bool {
	return !l.ActivateAt.After(now) && (!l.Revoked() || l.RevokedAt.After(l.ActivateAt))
}

// Status is a key's state at one moment, with when it ends.
type Status struct {
	Life
	State State
	// RetiredAt is when a retired (or gone) key stopped signing.
	RetiredAt time.Time
	// Until is when a retired or revoked key is gone: its tokens have
	// expired by then.
	Until time.Time
}

// Published reports whether the key belongs in the JWKS.
func (s Status) Published() bool {
	return s.State == StateNext || s.State == StateCurrent || s.State == StateRetired
}

// StatusAt derives the state of every key at now from their lives. A key
// that has signed is retired from the moment a later key that has signed
// took over, even if that key was revoked since; the current key is the
// one that has signed and was not taken over, unless it is revoked.
func (p Policy) StatusAt(lives []Life, now time.Time) []Status {
	out := make([]Status, len(lives))
	for i, l := range lives {
		out[i] = Status{Life: l}
		var successor *Life
		for j := range lives {
			o := &lives[j]
			if j != i && o.signed(now) && l.before(*o) && (successor == nil || o.before(*successor)) {
				successor = o
			}
		}
		switch {
		case l.Revoked():
			out[i].State, out[i].Until = StateRevoked, l.RevokedAt.Add(p.Retention())
		case l.ActivateAt.After(now):
			out[i].State = StateNext
		case successor != nil:
			out[i].State, out[i].RetiredAt = StateRetired, successor.ActivateAt
			out[i].Until = successor.ActivateAt.Add(p.Retention())
		default:
			out[i].State = StateCurrent
		}
		if !out[i].Until.IsZero() && !now.Before(out[i].Until) {
			out[i].State = StateGone
		}
	}
	return out
}

// Current returns the key that signs at now, if any.
func (p Policy) Current(lives []Life, now time.Time) (Life, bool) {
	for _, s := range p.StatusAt(lives, now) {
		if s.State == StateCurrent {
			return s.Life, true
		}
	}
	return Life{}, false
}

// next returns the first key due to sign after now, if any.
func (p Policy) next(lives []Life, now time.Time) (Life, bool) {
	var first Life
	found := false
	for _, s := range p.StatusAt(lives, now) {
		if s.State == StateNext && (!found || s.before(first)) {
			first, found = s.Life, true
		}
	}
	return first, found
}

// Plan is what a decision changes in the stored keys.
type Plan struct {
	// Create asks for new keys of the policy's algorithm, each signing
	// from the given time.
	Create []time.Time
	// Activate moves keys' ActivateAt (to now, for a forced rotation).
	Activate map[string]time.Time
	// Revoke revokes keys at the given time.
	Revoke map[string]time.Time
	// Delete removes keys that are gone.
	Delete []string
	// Forced is true when a key signs before it was published for
	// PublishBeforeSign: verifiers with a cached JWKS may not know it yet.
	Forced bool
}

// Empty reports whether the plan changes nothing.
func (pl Plan) Empty() bool {
	return len(pl.Create) == 0 && len(pl.Activate) == 0 && len(pl.Revoke) == 0 && len(pl.Delete) == 0
}

// Maintain plans the automatic part of the key life at now: a current key
// when there is none (the first start, or the current key was revoked); the
// next key, published PublishBeforeSign before the current one has signed
// for Rotation (or before it at once when the policy's algorithm changed);
// and the deletion of keys that are gone.
func (p Policy) Maintain(lives []Life, now time.Time) Plan {
	var pl Plan
	cur, hasCurrent := p.Current(lives, now)
	next, hasNext := p.next(lives, now)
	switch {
	case !hasCurrent && hasNext:
		// The next key is published already, if not for long enough.
		pl.Activate = map[string]time.Time{next.ID: latest(now, next.CreatedAt)}
		pl.Forced = true
	case !hasCurrent:
		pl.Create = []time.Time{now}
		pl.Forced = len(lives) > 0 // the very first key has nobody to surprise
	case !hasNext && cur.Algorithm != p.Algorithm:
		pl.Create = []time.Time{now.Add(p.PublishBeforeSign())}
	case !hasNext && p.Rotation > 0 && !now.Before(cur.ActivateAt.Add(p.Rotation-p.PublishBeforeSign())):
		pl.Create = []time.Time{latest(cur.ActivateAt.Add(p.Rotation), now.Add(p.PublishBeforeSign()))}
	}
	for _, s := range p.StatusAt(lives, now) {
		if s.State == StateGone {
			pl.Delete = append(pl.Delete, s.ID)
		}
	}
	slices.Sort(pl.Delete)
	return pl
}

// Due reports whether Maintain would change anything at now; instances ask
// it of their copy of the keys before they take the lock to maintain them.
func (p Policy) Due(lives []Life, now time.Time) bool { return !p.Maintain(lives, now).Empty() }

// Rotate plans a rotation by hand: a next key that signs once it has been
// published for PublishBeforeSign (none when there is a next key already).
// With immediate, the next key (a new one when there is none) signs from
// now, and the plan is Forced.
func (p Policy) Rotate(lives []Life, now time.Time, immediate bool) Plan {
	next, hasNext := p.next(lives, now)
	switch {
	case immediate && hasNext:
		return Plan{Activate: map[string]time.Time{next.ID: latest(now, next.CreatedAt)}, Forced: true}
	case immediate:
		return Plan{Create: []time.Time{now}, Forced: true}
	case hasNext:
		return Plan{}
	default:
		return Plan{Create: []time.Time{now.Add(p.PublishBeforeSign())}}
	}
}

// Revoke plans the revocation of key kid at now, and the key that takes
// over at once when it was the current one. It reports false when no key,
// or only a revoked one, has that kid.
func (p Policy) Revoke(lives []Life, now time.Time, kid string) (Plan, bool) {
	i := slices.IndexFunc(lives, func(l Life) bool { return l.ID == kid && !l.Revoked() })
	if i < 0 {
		return Plan{}, false
	}
	after := slices.Clone(lives)
	after[i].RevokedAt = now
	pl := p.Maintain(after, now)
	pl.Revoke = map[string]time.Time{kid: now}
	return pl, true
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
