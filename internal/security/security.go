// Package security holds the cryptography of accountd: bcrypt and argon2id
// password hashing under a concurrency (and memory) bound, JWT access
// tokens, and opaque refresh tokens with their hashes and sealing. It is a
// leaf: it does no I/O.
package security
