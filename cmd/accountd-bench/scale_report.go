package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"
)

// ScaleReport is everything the big-table benchmark measured.
type ScaleReport struct {
	Sizes      scaleSizes     `json:"sizes"`
	GoVersion  string         `json:"go_version"`
	GOMAXPROCS int            `json:"gomaxprocs"`
	BcryptCost int            `json:"bcrypt_cost"`
	Duration   string         `json:"duration_per_scenario"`
	Elapsed    string         `json:"elapsed"`
	Small      hotStats       `json:"small_database"`
	Big        hotStats       `json:"big_database"`
	Seed       []seedSpan     `json:"seeding"`
	View       ViewFigures    `json:"revocation_view"`
	Cleanup    CleanupFigures `json:"cleanup"`
	Memory     Memory         `json:"accountd_memory"`
	AllPass    bool           `json:"all_pass"`
}

// Print writes the results table.
func (r *ScaleReport) Print(w io.Writer) {
	fmt.Fprintf(w, "\nbig tables: %d accounts, %d sessions, %d refresh tokens; %d sessions revoked in the last 30 min, %d expired a month ago\n",
		r.Sizes.Accounts, r.Sizes.Sessions, r.Sizes.Tokens(), r.Sizes.Revoked, r.Sizes.Expired)
	fmt.Fprintf(w, "%s, GOMAXPROCS %d, bcrypt cost %d, %s per scenario, elapsed %s\n\n", r.GoVersion, r.GOMAXPROCS,
		r.BcryptCost, r.Duration, r.Elapsed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "measure\tsmall db\tbig db\tbig/small\ttarget\tresult\tother cpu (small/big)\t")
	r.AllPass = true
	judge := func(ok bool) string {
		r.AllPass = r.AllPass && ok
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	for i, hp := range []struct {
		name       string
		conns      int
		small, big Stats
	}{
		{"me req/s", meConnsLow, r.Small.Me, r.Big.Me},
		{"refresh req/s", refreshWorkers, r.Small.Refresh, r.Big.Refresh},
		{"login req/s", 2 * r.GOMAXPROCS, r.Small.Login, r.Big.Login},
	} {
		ratio := 0.0
		if hp.small.GoodRPS > 0 {
			ratio = hp.big.GoodRPS / hp.small.GoodRPS
		}
		ok := ratio >= targetBigRatio && hp.big.ErrorCount() == 0 && hp.big.Invalid == 0
		fmt.Fprintf(tw, "%s @%d\t%.1f\t%.1f\t%.2f\t>=%.2f, 0 errors\t%s\t%.0f%% / %.0f%%\t\n", hp.name, hp.conns,
			hp.small.GoodRPS, hp.big.GoodRPS, ratio, targetBigRatio, judge(ok), r.Small.OtherCPU[i], r.Big.OtherCPU[i])
	}
	fmt.Fprintf(tw, "view: %d revoked sessions, Redis restart to tokens accepted\t-\t%s\t-\t<%s\t%s\t-\t\n",
		r.View.Sessions, r.View.Rebuild.Round(time.Millisecond), targetRebuild, judge(r.View.Rebuild < targetRebuild))
	fmt.Fprintf(tw, "view: query and map of them (harness)\t-\t%s, %.1f MiB heap\t-\t-\t-\t-\t\n",
		r.View.Query.Round(time.Millisecond), r.View.HeapMiB)
	c := r.Cleanup
	fmt.Fprintf(tw, "cleanup: %d sessions + %d tokens in %d batches\t-\t%s\t-\t-\t-\t-\t\n", c.Sessions, c.RefreshTokens,
		c.Batches, c.Took.Round(time.Millisecond))
	fmt.Fprintf(tw, "cleanup: longest statement (%d over %s)\t-\t%s\t-\t<%s\t%s\t-\t\n", c.OverTarget, targetLongestDelete,
		c.Longest.Round(time.Millisecond), targetLongestDelete,
		judge(c.Longest < targetLongestDelete && c.Sessions >= int64(r.Sizes.Expired)))
	refreshRatio := 0.0
	if r.Big.Refresh.GoodRPS > 0 {
		refreshRatio = c.Refresh.GoodRPS / r.Big.Refresh.GoodRPS
	}
	fmt.Fprintf(tw, "refresh req/s during cleanup (p99 %.1f ms)\t-\t%.1f\t%.2f of big\t0 errors\t%s\t-\t\n",
		c.Refresh.P99ms, c.Refresh.GoodRPS, refreshRatio, judge(c.Refresh.ErrorCount() == 0 && c.Refresh.Invalid == 0))
	_ = tw.Flush()
	fmt.Fprintf(w, "longest cleanup statement: %.120s\n", c.LongestSQL)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintf(tw, "accountd peak RSS\t-\t%.1f MiB\t-\t-\t-\t-\t\n", r.Memory.PeakMiB)
	for _, s := range r.Seed {
		fmt.Fprintf(tw, "seed %s (COPY)\t-\t%d rows in %s\t-\t-\t-\t-\t\n", s.Table, s.Rows, s.Took.Round(time.Second))
	}
	_ = tw.Flush()
}

// WriteJSON writes the report to path.
func (r *ScaleReport) WriteJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}
