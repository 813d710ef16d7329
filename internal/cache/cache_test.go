package cache

import (
	"testing"
	"time"
)

func TestMapBoundedBySize(t *testing.T) {
	m := New[int, int](10, 0)
	now := time.Now()
	for i := range 35 {
		m.Put(i, i*i, now)
	}
	if n := m.Len(); n > 20 {
		t.Fatalf("Len = %d after 35 puts, want at most 2 generations of 10", n)
	}
	if v, ok := m.Get(34); !ok || v != 34*34 {
		t.Fatalf("Get(34) = %d, %v; want the latest entry", v, ok)
	}
	if _, ok := m.Get(0); ok {
		t.Fatal("Get(0) found an entry three generations old")
	}
}

func TestMapBoundedByAge(t *testing.T) {
	m := New[string, int](100, time.Minute)
	now := time.Now()
	m.Put("a", 1, now)
	m.Put("b", 2, now.Add(61*time.Second)) // new generation: a is old
	if _, ok := m.Get("a"); !ok {
		t.Fatal("an entry one generation old is gone")
	}
	m.Put("c", 3, now.Add(123*time.Second)) // another: a is dropped
	if _, ok := m.Get("a"); ok {
		t.Fatal("an entry two generations old is still there")
	}
	if m.Len() != 2 {
		t.Fatalf("Len = %d, want 2", m.Len())
	}
}
