//go:build !linux

package security

// lowerThreadPriority does nothing where threads cannot be reniced alone.
func lowerThreadPriority() {}
