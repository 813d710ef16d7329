package breached

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha1" //nolint:gosec // G505: the list's key
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// listFile is how writeList writes a list.
type listFile struct {
	lines     int
	crlf      bool
	lowercase bool
	bom       bool
}

// writeList writes a sorted list of the SHA-1s of "pw0", "pw1", ... with
// counts of 1 to 7 digits, and returns its path.
func writeList(t testing.TB, f listFile) string {
	t.Helper()
	// Sorted by their first 64 bits first, which is quick.
	type sortKey struct {
		hi  uint64
		sum [20]byte
	}
	keys := make([]sortKey, f.lines)
	var pw []byte
	for i := range keys {
		pw = strconv.AppendInt(append(pw[:0], "pw"...), int64(i), 10)
		keys[i].sum = sha1.Sum(pw) //nolint:gosec // G401: the list's key
		keys[i].hi = binary.BigEndian.Uint64(keys[i].sum[:8])
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if a.hi != b.hi {
			return cmp.Compare(a.hi, b.hi)
		}
		return bytes.Compare(a.sum[:], b.sum[:])
	})
	path := filepath.Join(t.TempDir(), "pwned.txt")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	if f.bom {
		_, _ = w.WriteString("\xef\xbb\xbf")
	}
	eol := "\n"
	if f.crlf {
		eol = "\r\n"
	}
	digits := "0123456789ABCDEF"
	if f.lowercase {
		digits = "0123456789abcdef"
	}
	line := make([]byte, 0, 64)
	for i, k := range keys {
		line = line[:0]
		for _, c := range k.sum {
			line = append(line, digits[c>>4], digits[c&15])
		}
		line = append(line, ':')
		line = strconv.AppendInt(line, int64(i*7919%9_999_999+1), 10)
		line = append(line, eol...)
		_, _ = w.Write(line)
	}
	if err := errors.Join(w.Flush(), out.Close()); err != nil {
		t.Fatal(err)
	}
	return path
}

func openList(t testing.TB, path string) *List {
	t.Helper()
	l, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func wantContains(t *testing.T, l *List, password string, want bool) {
	t.Helper()
	got, err := l.Contains(context.Background(), password)
	if err != nil || got != want {
		t.Fatalf("Contains(%q) = %v, %v; want %v", password, got, err, want)
	}
}

// TestContainsGenerated searches a generated list of two million lines
// (about 100 MB, CRLF) and a smaller one of the other shapes.
func TestContainsGenerated(t *testing.T) {
	t.Parallel()
	for _, f := range []listFile{
		{lines: 2_000_000, crlf: true},
		{lines: 50_000, bom: true},
		{lines: 3},
		{lines: 1, crlf: true},
	} {
		t.Run(strconv.Itoa(f.lines), func(t *testing.T) {
			t.Parallel()
			l := openList(t, writeList(t, f))
			step := max(f.lines/2000, 1)
			for i := 0; i < f.lines; i += step {
				wantContains(t, l, "pw"+strconv.Itoa(i), true)
				wantContains(t, l, "not-pw"+strconv.Itoa(i), false)
			}
			wantContains(t, l, "pw"+strconv.Itoa(f.lines-1), true)
			wantContains(t, l, "pw"+strconv.Itoa(f.lines), false)
			first, last := edges(t, l)
			for _, k := range []key{first, last} {
				if found, err := l.search(k); !found || err != nil {
					t.Fatalf("search(%s) = %v, %v; want the first and last lines found", k, found, err)
				}
			}
			for _, k := range []key{below(first), above(last), keyOf("0000000000000000000000000000000000000000"),
				keyOf("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF")} {
				if found, err := l.search(k); found || err != nil {
					t.Fatalf("search(%s) = %v, %v; want not found", k, found, err)
				}
			}
		})
	}
}

// edges returns the keys of the first and last lines of l.
func edges(t *testing.T, l *List) (first, last key) {
	t.Helper()
	buf := make([]byte, probeBytes)
	_ = l.eachLine(buf, l.start, func(_ int64, k []byte) bool { first = key(k); return false })
	if err := l.eachLine(buf, max(l.size-2*maxLine, l.start), func(_ int64, k []byte) bool { last = key(k); return true }); err != nil {
		t.Fatal(err)
	}
	return first, last
}

func keyOf(s string) key { var k key; copy(k[:], s); return k }

// below and above return the keys just before and after k.
func below(k key) key { return step(k, -1) }
func above(k key) key { return step(k, +1) }

func step(k key, d int) key {
	b, _ := hex.DecodeString(string(k[:]))
	for i := len(b) - 1; i >= 0; i-- {
		old := b[i]
		b[i] += byte(d)
		if (d > 0 && b[i] > old) || (d < 0 && b[i] < old) {
			break
		}
	}
	return upper(keyOf(hex.EncodeToString(b)))
}

// TestContainsSynthetic searches lists that exist only as ReaderAts, up
// to a billion lines (48 GB), for the keys of random lines, the first and
// the last, and the keys next to them.
func TestContainsSynthetic(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n        int64
		spread   func(float64) float64
		maxReads int64
	}{
		{4, nil, 1}, {8, wavy, 1}, {400, nil, 3}, {1_000_000_000, nil, 3}, {1_000_000_000, wavy, 6},
		// Within twice the reads of a bisection of 48 GB in 8 KiB windows.
		{1_000_000_000, skewed, 46},
	} {
		n := c.n
		s := newSynthetic(n, c.spread)
		r := &countingReader{r: s}
		l, err := newList(r, s.size())
		if err != nil {
			t.Fatalf("%d lines: newList: %v", n, err)
		}
		lines := []int64{0, 1, n - 2, n - 1}
		for range 200 {
			lines = append(lines, rand.Int64N(n))
		}
		r.reads.Store(0)
		for _, i := range lines {
			for _, c := range []struct {
				k    key
				want bool
			}{{s.key(i), true}, {below(s.key(i)), false}, {above(s.key(i)), false}} {
				if found, err := l.search(c.k); found != c.want || err != nil {
					t.Fatalf("%d lines: search(%s) for line %d = %v, %v; want %v", n, c.k, i, found, err, c.want)
				}
			}
		}
		if perLookup := float64(r.reads.Load()) / float64(3*len(lines)); perLookup > float64(c.maxReads) {
			t.Fatalf("%d lines: %.1f reads per lookup, want at most %d", n, perLookup, c.maxReads)
		}
	}
}

func TestContainsConcurrent(t *testing.T) {
	t.Parallel()
	l := openList(t, writeList(t, listFile{lines: 20_000}))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < 20_000; i += 97 {
				if ok, err := l.Contains(context.Background(), "pw"+strconv.Itoa(i)); !ok || err != nil {
					t.Errorf("Contains(pw%d) = %v, %v", i, ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Contains(ctx, "pw1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Contains with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestOpenRefuses checks that what is not a sorted list is refused at
// Open, with an error that says why.
func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sortedHead := sortedLines(2000)
	var shuffled strings.Builder
	shuffled.WriteString(sortedHead)
	for range 100_000 {
		k := sha1.Sum([]byte(strconv.Itoa(rand.Int()))) //nolint:gosec // G401: the list's key
		shuffled.WriteString(strings.ToUpper(hex.EncodeToString(k[:])) + ":1\n")
	}
	sparse := write("sparse.txt", sortedHead)
	if err := os.Truncate(sparse, 1<<30); err != nil { // a 1 GiB hole after the lines
		t.Fatal(err)
	}
	cases := []struct {
		name string
		path string
		want error
	}{
		{"missing", filepath.Join(dir, "nope.txt"), fs.ErrNotExist},
		{"directory", dir, ErrMalformed},
		{"empty", write("empty.txt", ""), ErrEmpty},
		{"only a BOM", write("bom.txt", "\xef\xbb\xbf"), ErrEmpty},
		{"unsorted head", write("head.txt", "B"+strings.Repeat("0", 39)+":1\nA"+strings.Repeat("0", 39)+":1\n"), ErrUnsorted},
		{"unsorted after the head", write("body.txt", shuffled.String()), ErrUnsorted},
		{"not hashes", write("words.txt", "password\n123456\n"), ErrMalformed},
		{"lowercase", writeList(t, listFile{lines: 10, lowercase: true}), ErrMalformed},
		{"short hash", write("short.txt", strings.Repeat("A", 39)+":1\n"), ErrMalformed},
		{"long lines", write("long.txt", sortedHead[:45]+strings.Repeat("x", 1000)+"\n"), ErrMalformed},
		{"sparse hole", sparse, ErrMalformed},
	}
	for _, c := range cases {
		l, err := Open(c.path)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Open = %v, want %v", c.name, err, c.want)
		}
		if l != nil {
			_ = l.Close()
		}
		if err != nil && !errors.Is(c.want, fs.ErrNotExist) && !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: error %q does not name the file", c.name, err)
		}
	}
}

// sortedLines returns n sorted lines of distinct keys.
func sortedLines(n int) string {
	var b strings.Builder
	s := newSynthetic(int64(n), nil)
	for i := range int64(n) {
		k := s.key(i)
		b.WriteString(string(k[:]) + ":3\n")
	}
	return b.String()
}
