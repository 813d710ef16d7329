package breached

import (
	"crypto/sha1" //nolint:gosec // G505: the list's key
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestSearchOfUnsortedLinesEnds searches lines out of order, which Open's
// sample may miss in a file sorted but for a few places: answers may be
// wrong there, but every search ends, without an error or a panic.
func TestSearchOfUnsortedLinesEnds(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for range 50_000 {
		k := sha1.Sum([]byte(strconv.Itoa(rand.Int()))) //nolint:gosec // G401: the list's key
		b.WriteString(strings.ToUpper(hex.EncodeToString(k[:])) + ":1\n")
	}
	data := b.String()
	l := &List{r: strings.NewReader(data), size: int64(len(data)), close: func() error { return nil }}
	keys := []key{keyOf(strings.Repeat("0", keyLen)), keyMax}
	for range 2000 {
		var raw [20]byte
		for i := range raw {
			raw[i] = byte(rand.IntN(256))
		}
		var k key
		hex.Encode(k[:], raw[:])
		keys = append(keys, upper(k))
	}
	for _, k := range keys {
		if _, err := l.search(k); err != nil {
			t.Fatalf("search(%s): %v", k, err)
		}
	}
}
