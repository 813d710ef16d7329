package account

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// accountIDPattern is the contract's rule for account ids, as a regexp
// that ValidAccountID must agree with.
var accountIDPattern = regexp.MustCompile(`^[A-Za-z0-9._@+-]{3,64}$`)

// accountIDMessages are the only problems an account id can have.
var accountIDMessages = map[string]string{
	"string_too_short":        "String should have at least 3 characters",
	"string_too_long":         "String should have at most 64 characters",
	"string_pattern_mismatch": "String should contain only letters, digits and . _ - @ +",
}

func FuzzValidAccountID(f *testing.F) {
	for _, seed := range []string{
		"alice", "John.Doe+tag@example.com", "ab", "a_b", strings.Repeat("x", 64), strings.Repeat("x", 65),
		"al ice", "alice\x00", "ålice", "a\u0301b", "\xff\xfe\xfd", "../..", "admin'--", "a@b", "ΑΒΓ",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		ok := ValidAccountID(id)
		if want := accountIDPattern.MatchString(id); ok != want {
			t.Fatalf("ValidAccountID(%q) = %v, want %v", id, ok, want)
		}
		err := ValidateAccountID("account_id", id)
		if ok != (err == nil) {
			t.Fatalf("ValidAccountID(%q) = %v but ValidateAccountID = %v", id, ok, err)
		}
		if err != nil {
			var v *ValidationError
			if !errors.As(err, &v) || len(v.Fields) != 1 {
				t.Fatalf("ValidateAccountID(%q) = %v, want one field error", id, err)
			}
			// The messages are fixed texts: the input is never echoed.
			fe := v.Fields[0]
			if want, known := accountIDMessages[fe.Type]; !known || fe.Message != want || fe.Field != "account_id" {
				t.Fatalf("ValidateAccountID(%q) = %+v, want field account_id with one of %v", id, fe, accountIDMessages)
			}
		}
		key, counted := loginKey(id)
		if counted != ok || (ok && key != "login:"+strings.ToLower(id)) {
			t.Fatalf("loginKey(%q) = %q, %v; want failures counted under the lower-cased id exactly when it is valid", id, key, counted)
		}
	})
}
