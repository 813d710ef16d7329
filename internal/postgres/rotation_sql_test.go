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

// rotationStatements are the statements SessionStore.Rotate runs in its
// transaction, in order. The mapping from Go placeholders to the variables of
// bench/rotation.sql:
//
//	lockSessionByTokenSQL  $1 :parent_hash
//	useRefreshTokenSQL     $1 :parent_hash  $2 :now  $3 :child_sealed
//	insertRefreshTokenSQL  $1 :parent_session_id  $2 :parent_id  $3 :child_hash
//	                       $4 :ip  $5 :ua  $6 :now  $7 :expires_at
//	touchSessionSQL        $1 :parent_session_id  $2 :now  $3 :expires_at
//	                       $4 :ip  $5 :ua
//
// parent_hash, child_hash, now, expires_at, ip, ua and child_sealed come from
// the script's SELECT before BEGIN; parent_id and parent_session_id from the
// "\gset parent_" on useRefreshTokenSQL's RETURNING rt.id, rt.session_id,
// as Rotate takes them from that row.
func rotationStatements() []rotationStatement {
	return []rotationStatement{
		{"lockSessionByTokenSQL", lockSessionByTokenSQL, []string{"parent_hash"}},
		{"useRefreshTokenSQL", useRefreshTokenSQL, []string{"parent_hash", "now", "child_sealed"}},
		{"insertRefreshTokenSQL", insertRefreshTokenSQL, []string{
			"parent_session_id", "parent_id", "child_hash", "ip", "ua", "now", "expires_at"}},
		{"touchSessionSQL", touchSessionSQL, []string{"parent_session_id", "now", "expires_at", "ip", "ua"}},
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

// transactionBody returns the SQL commands between the script's BEGIN and
// COMMIT, normalized, comments dropped. A command ends with a semicolon or
// with a \gset line, as pgbench reads it.
func transactionBody(script string) ([]string, error) {
	var lines []string
	for _, l := range strings.Split(script, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
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
	begin, commit := -1, -1
	for i, c := range cmds {
		switch {
		case strings.EqualFold(c, "BEGIN") && begin < 0:
			begin = i
		case strings.EqualFold(c, "COMMIT") && begin >= 0 && commit < 0:
			commit = i
		}
	}
	if begin < 0 || commit < 0 {
		return nil, fmt.Errorf("no BEGIN; ... COMMIT; transaction found")
	}
	return cmds[begin+1 : commit], nil
}

// checkRotationScript returns an error unless the script's transaction is
// exactly stmts, in order, with the placeholder mapping applied.
func checkRotationScript(script string, stmts []rotationStatement) error {
	body, err := transactionBody(script)
	if err != nil {
		return err
	}
	if len(body) != len(stmts) {
		return fmt.Errorf("the transaction has %d commands, want %d (%d rotation statements)", len(body), len(stmts), len(stmts))
	}
	for i, st := range stmts {
		want, err := st.toPgbench()
		if err != nil {
			return err
		}
		if body[i] != want {
			return fmt.Errorf("command %d of the transaction drifted from %s:\n got: %s\nwant: %s", i+1, st.name, body[i], want)
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
	stmts := rotationStatements()
	if err := checkRotationScript(string(script), stmts[:3]); err == nil {
		t.Errorf("a statement removed from Rotate: the check passed, want it to fail")
	}
}
