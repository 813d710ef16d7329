package security

import (
	"runtime"
	"time"
)

// backgroundIdle is how long a background thread waits for more work
// before it ends.
const backgroundIdle = time.Minute

// background runs functions on OS threads of their own that the kernel
// schedules at a low priority (nice +10 on Linux). bcrypt runs there: when
// it fills every core, a request that needs no bcrypt still gets a core at
// once instead of waiting for the Go scheduler to preempt a hash, and when
// nothing else runs, bcrypt has the cores to itself. The process needs more
// Ps than bcrypt slots for this (cmd/accountd raises GOMAXPROCS).
type background struct {
	jobs chan func()
}

func newBackground() *background { return &background{jobs: make(chan func())} }

// run calls f on a background thread and waits for it. Callers bound how
// many run at once (the Hasher's slots); a thread is started when none is
// idle.
func (b *background) run(f func()) {
	done := make(chan struct{})
	job := func() {
		defer close(done)
		f()
	}
	select {
	case b.jobs <- job:
	default:
		go b.worker(job)
	}
	<-done
}

// worker runs jobs on a thread of its own until it has been idle for
// backgroundIdle. It never unlocks the thread, so the thread, with its
// lowered priority, ends with the goroutine instead of going back to the
// Go scheduler's pool.
func (b *background) worker(job func()) {
	runtime.LockOSThread()
	lowerThreadPriority()
	job()
	idle := time.NewTimer(backgroundIdle)
	defer idle.Stop()
	for {
		select {
		case job := <-b.jobs:
			job()
			idle.Reset(backgroundIdle)
		case <-idle.C:
			return
		}
	}
}
