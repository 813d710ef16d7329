package security

import "syscall"

// lowerThreadPriority gives the calling OS thread (Linux schedules threads,
// and setpriority on a thread id affects that thread alone) nice +10.
// Lowering one's own priority needs no privilege; a failure only leaves the
// priority as it was.
func lowerThreadPriority() {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 10)
}
