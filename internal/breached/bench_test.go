package breached

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// BenchmarkContains times lookups, hits and misses alike, in a list on disk
// of two million lines (BREACHED_BENCH_LINES sets another count; the file
// is written to a temporary directory first), in sparse files of a billion
// lines (48 GB, holding real lines where the lookups of 2000 keys read), and
// in synthetic lists of a billion lines that exist only in memory (their
// times are mostly the making of the lines; their reads are what counts).
// reads/op is how many ReadAt calls of 8 KiB one lookup makes.
func BenchmarkContains(b *testing.B) {
	lines := 2_000_000
	if s := os.Getenv("BREACHED_BENCH_LINES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("BREACHED_BENCH_LINES=%q: want a positive count", s)
		}
		lines = n
	}
	b.Run("disk/"+strconv.Itoa(lines), func(b *testing.B) {
		l := openList(b, writeList(b, listFile{lines: lines, crlf: true}))
		r := &countingReader{r: l.r}
		l.r = r
		ctx := context.Background()
		r.reads.Store(0)
		i := 0
		for b.Loop() {
			pw := "pw" + strconv.Itoa(rand.IntN(lines))
			if i%2 == 1 {
				pw = "not-" + pw
			}
			i++
			if _, err := l.Contains(ctx, pw); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(r.reads.Load())/float64(b.N), "reads/op")
	})
	for _, c := range []struct {
		name   string
		spread func(float64) float64
	}{{"even", nil}, {"wavy", wavy}, {"skewed", skewed}} {
		b.Run("sparse/"+c.name+"/1000000000", func(b *testing.B) {
			s := newSynthetic(1_000_000_000, c.spread)
			in, _ := sampleKeys(s, 2000)
			l := sparseList(b, s, in)
			r := &countingReader{r: l.r}
			l.r = r
			for b.Loop() {
				if found, err := l.search(in[rand.IntN(len(in))]); !found || err != nil {
					b.Fatalf("search = %v, %v; want found", found, err)
				}
			}
			b.ReportMetric(float64(r.reads.Load())/float64(b.N), "reads/op")
		})
	}
	for _, c := range []struct {
		name   string
		n      int64
		spread func(float64) float64
	}{
		{"even", 1_000_000_000, nil}, {"wavy", 1_000_000_000, wavy}, {"skewed", 1_000_000_000, skewed},
	} {
		n := c.n
		b.Run("synthetic/"+c.name+"/"+strconv.FormatInt(n, 10), func(b *testing.B) {
			s := newSynthetic(n, c.spread)
			r := &countingReader{r: s}
			l, err := newList(r, s.size())
			if err != nil {
				b.Fatal(err)
			}
			r.reads.Store(0)
			for b.Loop() {
				if _, err := l.search(s.key(rand.Int64N(n))); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(r.reads.Load())/float64(b.N), "reads/op")
		})
	}
}
