package config

import (
	"fmt"
	"strconv"
	"strings"
)

// KiB is an amount of memory in KiB, argon2's unit. In the environment it
// is a whole number followed by KiB, MiB or GiB (any case, a space allowed
// before the unit), or a bare number of KiB: 19MiB, 19456KiB and 19456 are
// the same.
type KiB uint64

// UnmarshalText reads a KiB from its text form.
func (k *KiB) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	mult := uint64(1)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"kib", 1}, {"mib", 1 << 10}, {"gib", 1 << 20}} {
		if strings.HasSuffix(strings.ToLower(s), u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > (1<<40)/mult {
		return fmt.Errorf("%q is not a size such as 19MiB, 19456KiB or 19456 (KiB)", text)
	}
	*k = KiB(n * mult)
	return nil
}

// String formats k as UnmarshalText reads it, in the largest unit that
// divides it.
func (k KiB) String() string {
	switch {
	case k != 0 && k%(1<<20) == 0:
		return strconv.FormatUint(uint64(k)>>20, 10) + "GiB"
	case k != 0 && k%(1<<10) == 0:
		return strconv.FormatUint(uint64(k)>>10, 10) + "MiB"
	default:
		return strconv.FormatUint(uint64(k), 10) + "KiB"
	}
}
