package breached

import (
	"bytes"
	"math"
	"strings"
)

// search finds target: it narrows [lo, hi], the bytes where the first line
// whose key is not below target starts, by reading a window of a few KiB
// at a time. SHA-1s are spread evenly, so the window is placed where the
// key falls between the keys known at lo and hi (interpolation), which
// finds a key among a billion lines in a few reads. A window that falls
// short of the target moves lo only; the next one is pushed past the guess
// toward the target, twice as far at each miss in a row, so that the target
// is soon bracketed from both sides. Once it is, two guesses in a row that
// fail to halve the range make the next window go to its middle, so that
// keys spread unevenly cost at most about three times the reads of a
// bisection.
func (l *List) search(target key) (bool, error) {
	t := top64(target)
	lo, hi := l.start, l.size
	klo, khi := uint64(0), uint64(math.MaxUint64) // bounds of the keys at lo and at hi
	buf := make([]byte, window+probeBytes)
	dir, misses, slow := 0, 0, 0
	for {
		var off int64
		switch {
		case hi-lo <= window:
			off = lo
		case slow >= 2:
			off, slow = lo+(hi-lo)/2-window/2, 0
		default:
			guess := lo + int64(float64(hi-lo)*fraction(t, klo, khi))
			off = guess - window/2 + int64(dir)*(window/2)<<misses
		}
		off = min(max(off, lo), max(hi-1, lo)) // in [lo, hi), or lo when the range is empty
		p, err := l.probe(buf[:min(int64(len(buf)), l.size-max(off-1, l.start))], off, off == lo, target)
		switch {
		case err != nil:
			return false, err
		case p.decided:
			return p.found, nil
		case hi-lo <= window:
			return false, nil // every line to the end is below target
		}
		before, was := hi-lo, dir
		if p.below {
			lo, klo, dir = p.lastStart+1, top64(p.lastKey), +1
		} else {
			hi, khi, dir = off, top64(p.firstKey), -1
		}
		if dir == was {
			misses = min(misses+1, maxMisses)
		} else {
			misses = 0
		}
		if lo > l.start && hi < l.size && hi-lo > before/2 {
			slow++
		} else {
			slow = 0
		}
	}
}

// maxMisses caps the doubling of the push past a guess (8 KiB << 40 is
// far beyond any file).
const maxMisses = 40

// probed is what one window of the list tells about a target.
type probed struct {
	// decided is set when the window holds the first line whose key is
	// not below the target; found tells whether that line is the target.
	decided, found bool
	// below is set when every line in the window is below the target;
	// lastStart and lastKey are the last such line's.
	below     bool
	lastStart int64
	lastKey   key
	// firstKey is the key of the window's first line, when it is not
	// below the target (and decided is not set).
	firstKey key
}

// probe reads the lines that start in buf's window at off. atLo says that
// every line before off is known to be below target.
func (l *List) probe(buf []byte, off int64, atLo bool, target key) (probed, error) {
	p := probed{firstKey: keyMax} // no line in the window: it is past the last one
	first := true
	err := l.eachLine(buf, off, func(start int64, k []byte) bool {
		c := bytes.Compare(k, target[:])
		switch {
		case c < 0:
			p.below, p.lastStart = true, start
			p.lastKey = key(k)
			first = false
			return true
		case first && !atLo:
			p.firstKey = key(k)
		default:
			p.decided, p.found = true, c == 0
		}
		p.below = false
		return false
	})
	return p, err
}

// keyMax is above every key.
var keyMax = key([]byte(strings.Repeat("F", keyLen)))

// top64 returns the first 64 bits of k, as a number.
func top64(k key) uint64 {
	var n uint64
	for _, c := range k[:16] {
		d := uint64(c - '0')
		if c >= 'A' {
			d = uint64(c-'A') + 10
		}
		n = n<<4 | d
	}
	return n
}

// fraction is where t falls between lo and hi, from 0 to 1.
func fraction(t, lo, hi uint64) float64 {
	if hi <= lo || t <= lo {
		return 0
	}
	return min(float64(t-lo)/float64(hi-lo), 1)
}
