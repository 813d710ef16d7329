// Package cache holds the bounded in-memory map that accountd's hot paths
// use to remember what they would otherwise recompute. It is a leaf: it
// imports only the standard library.
package cache

import (
	"sync"
	"time"
)

// Map is a map that forgets: it keeps two generations of entries and starts
// a new one when the current one holds size entries or, when age is
// positive, is older than age; the generation before the previous is
// dropped. So it holds at most 2×size entries, and an entry not put again
// is gone after at most two generations. It is safe for concurrent use.
// Callers store only what they can compute again.
type Map[K comparable, V any] struct {
	size int
	age  time.Duration

	mu       sync.RWMutex
	cur, old map[K]V
	started  time.Time
}

// New returns an empty Map with generations of at most size entries and,
// when age > 0, at most age old.
func New[K comparable, V any](size int, age time.Duration) *Map[K, V] {
	return &Map[K, V]{size: max(size, 1), age: age}
}

// Get returns the value put under k, if the Map still holds it.
func (m *Map[K, V]) Get(k K) (V, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if v, ok := m.cur[k]; ok {
		return v, true
	}
	v, ok := m.old[k]
	return v, ok
}

// Put stores v under k at time now.
func (m *Map[K, V]) Put(k K, v V, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil || len(m.cur) >= m.size || (m.age > 0 && now.Sub(m.started) > m.age) {
		m.old, m.cur, m.started = m.cur, make(map[K]V), now
	}
	m.cur[k] = v
}

// Len returns how many entries the Map holds.
func (m *Map[K, V]) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.cur) + len(m.old)
}
