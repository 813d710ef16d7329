// Package breached looks passwords up in a list of breached passwords:
// a file of Have I Been Pwned's SHA1HEX:COUNT lines, sorted by hash, that is
// searched on disk and never loaded into memory.
package breached

import (
	"bytes"
	"context"
	"crypto/sha1" //nolint:gosec // G505: the list is keyed by SHA-1; nothing is protected by it
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/accountd/accountd/internal/account"
)

// Shape of the lines, and how much the search reads at a time.
const (
	// keyLen is the length of a line's hash: SHA-1 in hex.
	keyLen = 40
	// maxLine bounds a line, its line break included; HIBP's are 45 to 55
	// bytes long.
	maxLine = 128
	// probeBytes is what one probe reads: the end of one line and at least
	// two whole lines after it.
	probeBytes = 3 * maxLine
	// window is how much the search reads at a time: a read of a few KiB
	// costs about what a read of one line does.
	window = 8 << 10
)

// Errors of Open.
var (
	ErrEmpty     = errors.New("holds no lines")
	ErrMalformed = errors.New("not a file of SHA1HEX:COUNT lines")
	ErrUnsorted  = errors.New("not sorted by hash")
)

// key is a line's hash, in uppercase hex.
type key [keyLen]byte

// List is an open list of breached passwords. It is safe for concurrent
// use: every read is a ReadAt.
type List struct {
	r     io.ReaderAt
	close func() error
	// start is where the first line begins (after a byte order mark, if
	// any); size is the file's length.
	start, size int64
}

var _ account.BreachedPasswords = (*List)(nil)

// Open opens the list at path and checks, on a sample, that it is one:
// its first lines and a thousand pairs of consecutive lines at random places
// must be well-formed and in order. It returns an error wrapping ErrEmpty,
// ErrMalformed or ErrUnsorted for a file that is not, or the error of
// opening it.
func Open(path string) (*List, error) {
	f, err := os.Open(path) //nolint:gosec // G304: the operator names the file
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%w: not a regular file", ErrMalformed)
	}
	var l *List
	if err == nil {
		l, err = newList(f, st.Size())
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	l.close = f.Close
	return l, nil
}

// newList checks the list of size bytes that r reads, as Open does.
func newList(r io.ReaderAt, size int64) (*List, error) {
	l := &List{r: r, size: size, close: func() error { return nil }}
	bom := make([]byte, 3)
	if n, _ := r.ReadAt(bom, 0); n == 3 && string(bom) == "\xef\xbb\xbf" {
		l.start = 3
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	return l, nil
}

// Close closes the file.
func (l *List) Close() error { return l.close() }

// Contains reports whether password is in the list. It returns an error
// only when the file could not be read, or ctx has ended.
func (l *List) Contains(ctx context.Context, password string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	sum := sha1.Sum([]byte(password)) //nolint:gosec // G401: the list's key, not a password hash
	var target key
	hex.Encode(target[:], sum[:])
	for i, c := range target {
		if c >= 'a' {
			target[i] = c - ('a' - 'A') // the list's hex is uppercase
		}
	}
	found, err := l.search(target)
	if err != nil {
		return false, fmt.Errorf("search breached passwords: %w", err)
	}
	return found, nil
}

// eachLine calls fn with the start and key (in buf) of each whole line that starts
// at or after off and fits in one read of len(buf) bytes, until fn returns
// false. A line starts at l.start or after a '\n'.
func (l *List) eachLine(buf []byte, off int64, fn func(start int64, k []byte) bool) error {
	pos := max(off-1, l.start)
	n, err := l.r.ReadAt(buf, pos)
	atEOF := errors.Is(err, io.EOF) || pos+int64(n) >= l.size
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	data := buf[:n]
	i := 0
	if off > l.start {
		// Skip the rest of the line that off falls in, unless the byte
		// before off ends a line.
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return l.cut(data, pos, atEOF)
		}
		i = nl + 1
	}
	for i < len(data) {
		line := data[i:]
		nl := bytes.IndexByte(line, '\n')
		if nl >= 0 {
			line = line[:nl]
		} else if !atEOF {
			return l.cut(line, pos+int64(i), false)
		}
		k, ok := lineKey(line)
		if !ok {
			return fmt.Errorf("%w: line at byte %d", ErrMalformed, pos+int64(i))
		}
		if !fn(pos+int64(i), k) || nl < 0 {
			return nil
		}
		i += nl + 1
	}
	return nil
}

// cut handles a read that ended inside a line: fine, unless the line is
// already longer than any line may be.
func (l *List) cut(rest []byte, at int64, atEOF bool) error {
	if !atEOF && len(rest) >= maxLine {
		return fmt.Errorf("%w: line at byte %d is longer than %d bytes", ErrMalformed, at, maxLine)
	}
	return nil
}

// lineKey returns the hash at the start of a line (without its '\n'): the
// 40 bytes before ':' and the count, or before the end. The search compares
// them as they are; Open has checked on a sample that they are uppercase
// hex digits (parseKey).
func lineKey(line []byte) ([]byte, bool) {
	if len(line) < keyLen || (len(line) > keyLen && line[keyLen] != ':' && line[keyLen] != '\r') {
		return nil, false
	}
	return line[:keyLen], true
}

// parseKey reads the hash at the start of a line as lineKey does, and
// checks that it is 40 uppercase hex digits.
func parseKey(line []byte) (key, error) {
	raw, ok := lineKey(line)
	if !ok {
		return key{}, ErrMalformed
	}
	for _, c := range raw {
		if (c < '0' || c > '9') && (c < 'A' || c > 'F') {
			return key{}, fmt.Errorf("%w: want uppercase hex digits", ErrMalformed)
		}
	}
	return key(raw), nil
}
