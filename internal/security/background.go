package security

import (
	"runtime"
	"sync"
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
// Ps than bcrypt slots for this, while the jobs run: busy is told when the
// first job starts and when the last one ends (see WithBusy). argon2id is
// run here too, but the low priority does not reach its work:
// golang.org/x/crypto/argon2 computes each segment on a goroutine of its
// own, on the runtime's threads (the README's argon2id note has what that
// costs and why it stays so).
type background struct {
	jobs chan func()

	mu      sync.Mutex
	running int
	busy    func(bool) // nil: nobody is told
}

func newBackground() *background { return &background{jobs: make(chan func())} }

// track counts a job starting (+1) or ending (-1) and tells busy when the
// count leaves or reaches zero. It holds mu while busy runs, so that the
// calls come in order.
func (b *background) track(delta int) {
	if b.busy == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	was := b.running
	b.running += delta
	switch {
	case was == 0 && b.running > 0:
		b.busy(true)
	case was > 0 && b.running == 0:
		b.busy(false)
	}
}

// run calls f on a background thread and waits for it. Callers bound how
// many run at once (the Hasher's slots); a thread is started when none is
// idle.
func (b *background) run(f func()) {
	b.track(+1)
	defer b.track(-1)
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
