package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// tally counts outcomes by operation and status and keeps their latency in
// a histogram: fixed memory however long the load runs.
type tally struct {
	mu     sync.Mutex
	counts map[string]map[int]int // op -> status (0: no response) -> n
	hist   map[string]*latencies
}

func newTally() *tally {
	return &tally{counts: make(map[string]map[int]int), hist: make(map[string]*latencies)}
}

func (t *tally) add(o outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts[o.op] == nil {
		t.counts[o.op] = make(map[int]int)
		t.hist[o.op] = &latencies{}
	}
	t.counts[o.op][o.status]++
	t.hist[o.op].add(o.took())
}

// count returns how many outcomes have a status that match accepts (0 for
// no response).
func (t *tally) count(match func(status int) bool) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, byStatus := range t.counts {
		for st, c := range byStatus {
			if match(st) {
				n += c
			}
		}
	}
	return n
}

// table formats the counts and latencies, one row per operation.
func (t *tally) table() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "endpoint\trequests\tby status\tp50\tp99\tmax\t")
	ops := make([]string, 0, len(t.counts))
	for op := range t.counts {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	for _, op := range ops {
		statuses := make([]int, 0, len(t.counts[op]))
		total := 0
		for st, n := range t.counts[op] {
			statuses = append(statuses, st)
			total += n
		}
		slices.Sort(statuses)
		parts := make([]string, len(statuses))
		for i, st := range statuses {
			name := fmt.Sprint(st)
			if st == 0 {
				name = "no-response"
			}
			parts[i] = fmt.Sprintf("%s:%d", name, t.counts[op][st])
		}
		h := t.hist[op]
		fmt.Fprintf(w, "%s\t%d\t%s\t%v\t%v\t%v\t\n", op, total, strings.Join(parts, " "),
			h.quantile(0.50), h.quantile(0.99), h.max.Round(time.Microsecond))
	}
	_ = w.Flush()
	return b.String()
}

// latencies is a histogram with buckets 10% apart from 100µs up, enough
// for percentiles to within 10%.
type latencies struct {
	buckets [200]int
	n       int
	max     time.Duration
}

const latencyBase = 100 * time.Microsecond

func (h *latencies) add(d time.Duration) {
	i := 0
	if d > latencyBase {
		i = min(int(math.Log(float64(d)/float64(latencyBase))/math.Log(1.1))+1, len(h.buckets)-1)
	}
	h.buckets[i]++
	h.n++
	h.max = max(h.max, d)
}

// quantile returns the upper bound of the bucket that holds quantile q.
func (h *latencies) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(h.n)))
	seen := 0
	for i, c := range h.buckets {
		seen += c
		if seen >= rank {
			upper := time.Duration(float64(latencyBase) * math.Pow(1.1, float64(i)))
			return min(upper, h.max).Round(time.Microsecond)
		}
	}
	return h.max
}
