package breached

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
)

// How much of a file Open checks: its first headLines lines, its last
// lines, and probes pairs of consecutive lines at random places. A file
// sorted but for a few lines may pass; one that is not sorted at all, or
// not made of SHA1HEX:COUNT lines, will not.
const (
	headLines = 1000
	probes    = 1000
)

// check samples the file: well-formed lines, in order.
func (l *List) check() error {
	if l.size <= l.start {
		return ErrEmpty
	}
	if err := l.checkHead(); err != nil {
		return err
	}
	buf := make([]byte, probeBytes)
	if err := l.checkPair(buf, max(l.size-2*maxLine, l.start)); err != nil {
		return err
	}
	for range probes {
		off := l.start + rand.Int64N(l.size-l.start) //nolint:gosec // G404: sampling, not a secret
		if err := l.checkPair(buf, off); err != nil {
			return err
		}
	}
	return nil
}

// checkHead reads the first headLines lines in order.
func (l *List) checkHead() error {
	r := bufio.NewReaderSize(io.NewSectionReader(l.r, l.start, l.size-l.start), 64<<10)
	var prev key
	for i := range headLines {
		line, err := r.ReadSlice('\n')
		if len(line) == 0 && errors.Is(err, io.EOF) {
			if i == 0 {
				return ErrEmpty
			}
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			if errors.Is(err, bufio.ErrBufferFull) {
				return fmt.Errorf("%w: line %d is too long", ErrMalformed, i+1)
			}
			return err
		}
		if len(line) > maxLine {
			return fmt.Errorf("%w: line %d is longer than %d bytes", ErrMalformed, i+1, maxLine)
		}
		k, perr := parseKey(bytes.TrimSuffix(line, []byte("\n")))
		if perr != nil {
			return fmt.Errorf("%w: line %d", perr, i+1)
		}
		if i > 0 && bytes.Compare(prev[:], k[:]) > 0 {
			return fmt.Errorf("%w: line %d comes before line %d", ErrUnsorted, i+1, i)
		}
		prev = k
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
	return nil
}

// checkPair reads the two lines that follow off and checks their order.
func (l *List) checkPair(buf []byte, off int64) error {
	var (
		keys   [2]key
		starts [2]int64
		n      int
		perr   error
	)
	err := l.eachLine(buf, off, func(start int64, raw []byte) bool {
		keys[n], perr = parseKey(raw)
		if perr != nil {
			perr = fmt.Errorf("%w: line at byte %d", perr, start)
			return false
		}
		starts[n] = start
		n++
		return n < 2
	})
	if err = errors.Join(err, perr); err != nil {
		return err
	}
	if n == 2 && bytes.Compare(keys[0][:], keys[1][:]) > 0 {
		return fmt.Errorf("%w: the line at byte %d comes before the one at byte %d", ErrUnsorted, starts[1], starts[0])
	}
	return nil
}
