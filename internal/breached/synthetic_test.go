package breached

import (
	"encoding/binary"
	"encoding/hex"
	"io"
	"math"
	"sync/atomic"
)

// synthetic is a sorted list of n lines (n a multiple of 4) that exists
// only as an io.ReaderAt, so that a list of a billion lines (48 GB) can be
// searched without writing it. Line i's key starts with the 64 bits
// spread(i/n)*2^64 and ends with 96 bits mixed from i; four shapes of lines
// repeat: counts of 1, 4, 7 and 10 digits, ending alternately in CRLF and
// LF, 44, 46, 50 and 52 bytes long.
type synthetic struct {
	n int64
	// spread maps [0, 1) onto [0, 1), increasing strictly; nil is the
	// identity. It makes keys bunch up where its slope is low.
	spread func(x float64) float64
}

// wavy spreads keys in waves, as unevenly as (or more than) a list of
// random hashes: a key is up to a hundred thousand lines away from where
// its value alone would place it in a billion lines.
func wavy(x float64) float64 {
	const f = 1000 // waves
	return x + 0.5*math.Sin(2*math.Pi*f*x)/(2*math.Pi*f)
}

// skewed puts most keys near zero, where guessing positions from key
// values fails.
func skewed(x float64) float64 { return 0.1*x + 0.9*math.Pow(x, 8) }

var shapes = [4]struct {
	count string
	eol   string
}{{"7", "\r\n"}, {"1234", "\n"}, {"1234567", "\r\n"}, {"1234567890", "\n"}}

const groupBytes = 44 + 46 + 50 + 52

func newSynthetic(n int64, spread func(float64) float64) synthetic {
	return synthetic{n: n, spread: spread}
}

func (s synthetic) size() int64 { return s.n / 4 * groupBytes }

// key returns line i's key.
func (s synthetic) key(i int64) key {
	var raw [20]byte
	x := (float64(i) + 0.5) / float64(s.n)
	if s.spread != nil {
		x = s.spread(x)
	}
	binary.BigEndian.PutUint64(raw[:8], uint64(x*(1<<64)))
	binary.BigEndian.PutUint64(raw[8:16], uint64(i)*0x9E3779B97F4A7C15)
	binary.BigEndian.PutUint32(raw[16:], uint32(i)*0x85EBCA6B)
	var k key
	hex.Encode(k[:], raw[:])
	return upper(k)
}

func upper(k key) key {
	for i, c := range k {
		if c >= 'a' {
			k[i] = c - ('a' - 'A')
		}
	}
	return k
}

// appendLine appends line i to dst.
func (s synthetic) appendLine(dst []byte, i int64) []byte {
	k := s.key(i)
	sh := shapes[i%4]
	dst = append(dst, k[:]...)
	dst = append(dst, ':')
	dst = append(dst, sh.count...)
	return append(dst, sh.eol...)
}

// ReadAt generates the bytes at off.
func (s synthetic) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.size() {
		return 0, io.EOF
	}
	i, start := off/groupBytes*4, off/groupBytes*groupBytes
	var line []byte
	for {
		line = s.appendLine(line[:0], i)
		if start+int64(len(line)) > off {
			break
		}
		start += int64(len(line))
		i++
	}
	n := copy(p, line[off-start:])
	for i++; n < len(p) && i < s.n; i++ {
		line = s.appendLine(line[:0], i)
		n += copy(p[n:], line)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// countingReader counts the reads made through it.
type countingReader struct {
	r     io.ReaderAt
	reads atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads.Add(1)
	return c.r.ReadAt(p, off)
}
