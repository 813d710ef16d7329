// Package migrations holds the numbered SQL migrations of accountd, embedded
// in the binary. They are append-only: change the schema with a new file.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
