package postgres

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// rotationScript is the pgbench script that replays one rotation for the
// benchmark's database baseline (make bench).
const rotationScript = "../../bench/rotation.sql"

// rotationStatement is one statement of SessionStore.Rotate with the pgbench
// variable that stands for each of its placeholders: vars[i] replaces $(i+1).
type rotationStatement struct {
	name string
	sql  string
	vars []string
}

// rotationStatements are the statements SessionStore.Rotate runs, in order:
// one. The mapping from Go placeholders to the variables of
// bench/rotation.sql:
//
//	rotateSQL  $1 :parent_hash  $2 :now  $3 :child_sealed  $4 :child_hash
//	           $5 :ip  $6 :ua  $7 :expires_at  $8 :session_lifetime_us
//
// They all come from the script's SELECT before the rotation.
func rotationStatements() []rotationStatement {
	return []rotationStatement{
		{"rotateSQL", rotateSQL, []string{
			"parent_hash", "now", "child_sealed", "child_hash", "ip", "ua", "expires_at", "session_lifetime_us"}},
	}
}

var (
	spaceRun    = regexp.MustCompile(`\s+`)
	placeholder = regexp.MustCompile(`\$[0-9]+`)
	gsetLine    = regexp.MustCompile(`(?m)^\\gset\b.*$`)
)

// normalizeSQL collapses every run of whitespace into one space.
func normalizeSQL(s string) string {
	return strings.TrimSpace(spaceRun.ReplaceAllString(s, " "))
}

// toPgbench normalizes st's SQL and replaces its placeholders with the
// pgbench variables of the mapping.
func (st rotationStatement) toPgbench() (string, error) {
	var bad error
	out := placeholder.ReplaceAllStringFunc(normalizeSQL(st.sql), func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		if n < 1 || n > len(st.vars) {
			bad = fmt.Errorf("%s uses %s, which the mapping in rotation_sql_test.go does not cover", st.name, p)
			return p
		}
		return ":" + st.vars[n-1]
	})
	return out, bad
}

// rotationBody returns the SQL commands of the script after its first one
// (the SELECT that computes the parameters), normalized, comments and
// pgbench meta-commands dropped. A command ends with a semicolon or with a
// \gset line, as pgbench reads it.
func rotationBody(script string) ([]string, error) {
	var lines []string
	for _, l := range strings.Split(script, "\n") {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "--") && !strings.HasPrefix(t, "\\set") {
			lines = append(lines, l)
		}
	}
	text := gsetLine.ReplaceAllString(strings.Join(lines, "\n"), ";")
	var cmds []string
	for _, c := range strings.Split(text, ";") {
		if c = normalizeSQL(c); c != "" {
			cmds = append(cmds, c)
		}
	}
	if len(cmds) < 2 {
		return nil, fmt.Errorf("no rotation found after the parameters' SELECT")
	}
	return cmds[1:], nil
}

// checkRotationScript returns an error unless the script's transaction is
// exactly stmts, in order, with the placeholder mapping applied.
func checkRotationScript(script string, stmts []rotationStatement) error {
	body, err := rotationBody(script)
	if err != nil {
		return err
	}
	if len(body) != len(stmts) {
		return fmt.Errorf("the script has %d rotation commands, want %d", len(body), len(stmts))
	}
	for i, st := range stmts {
		want, err := st.toPgbench()
		if err != nil {
			return err
		}
		if body[i] != want {
			return fmt.Errorf("command %d of the rotation drifted from %s:\n got: %s\nwant: %s", i+1, st.name, body[i], want)
		}
	}
	return nil
}

func TestRotationScriptMatchesRotate(t *testing.T) {
	script, err := os.ReadFile(rotationScript)
	if err != nil {
		t.Fatalf("read %s: %v", rotationScript, err)
	}
	if err := checkRotationScript(string(script), rotationStatements()); err != nil {
		t.Fatalf("%s no longer replays SessionStore.Rotate; update it (and this mapping): %v", rotationScript, err)
	}
}

// TestRotationScriptDetectsDrift shows that the check above fails when a
// rotation constant changes, even by a clause it would still contain.
func TestRotationScriptDetectsDrift(t *testing.T) {
	script, err := os.ReadFile(rotationScript)
	if err != nil {
		t.Fatalf("read %s: %v", rotationScript, err)
	}
	edits := map[string]func(string) string{
		"clause dropped":  func(s string) string { return strings.Replace(s, "FOR UPDATE OF s", "", 1) },
		"lock weakened":   func(s string) string { return strings.Replace(s, "FOR UPDATE OF s", "FOR SHARE OF s", 1) },
		"clause added":    func(s string) string { return s + " AND true" },
		"parameter moved": func(s string) string { return strings.Replace(s, "$1", "$2", 1) },
		"extra parameter": func(s string) string { return s + " AND $9 IS NULL" },
	}
	for name, edit := range edits {
		for i := range rotationStatements() {
			stmts := rotationStatements()
			changed := edit(stmts[i].sql)
			if changed == stmts[i].sql {
				continue
			}
			stmts[i].sql = changed
			if checkRotationScript(string(script), stmts) == nil {
				t.Errorf("%s in %s: the check passed, want it to fail", name, stmts[i].name)
			}
		}
	}
	stmts := append(rotationStatements(), rotationStatement{"extra", "SELECT 1", nil})
	if err := checkRotationScript(string(script), stmts); err == nil {
		t.Errorf("a statement added to Rotate: the check passed, want it to fail")
	}
}
