package breached

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// recorder reads from a synthetic list and writes what it read into a
// file at the same offsets.
type recorder struct {
	r synthetic
	f *os.File
}

func (rc recorder) ReadAt(p []byte, off int64) (int, error) {
	n, err := rc.r.ReadAt(p, off)
	if _, werr := rc.f.WriteAt(p[:n], off); werr != nil {
		return n, werr
	}
	return n, err
}

// sparseList writes a sparse file as long as s (48 GB for a billion
// lines) that holds s's bytes wherever a search of one of keys reads, and
// holes elsewhere, and returns the list of that file: searching it for those
// keys reads the disk exactly as searching the whole list would. It skips
// Open's random sample, which would land in the holes.
func sparseList(t testing.TB, s synthetic, keys []key) *List {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "sparse.txt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	if err := f.Truncate(s.size()); err != nil {
		t.Fatalf("make a sparse file of %d bytes: %v", s.size(), err)
	}
	priming := &List{r: recorder{r: s, f: f}, size: s.size(), close: f.Close}
	for _, k := range keys {
		if _, err := priming.search(k); err != nil {
			t.Fatal(err)
		}
	}
	return &List{r: f, size: s.size(), close: f.Close}
}

// sampleKeys returns the keys of n random lines of s, each with the keys
// just below and above it, which are not in s.
func sampleKeys(s synthetic, n int) (in, out []key) {
	for range n {
		k := s.key(rand.Int64N(s.n))
		in = append(in, k)
		out = append(out, below(k), above(k))
	}
	return in, out
}

// TestContainsSparse searches a 48 GB sparse file of a billion lines on
// disk, holding real lines where the searches read.
func TestContainsSparse(t *testing.T) {
	t.Parallel()
	s := newSynthetic(1_000_000_000, wavy)
	in, out := sampleKeys(s, 200)
	l := sparseList(t, s, append(append([]key{}, in...), out...))
	for _, k := range in {
		if found, err := l.search(k); !found || err != nil {
			t.Fatalf("search(%s) = %v, %v; want found", k, found, err)
		}
	}
	for _, k := range out {
		if found, err := l.search(k); found || err != nil {
			t.Fatalf("search(%s) = %v, %v; want not found", k, found, err)
		}
	}
}
