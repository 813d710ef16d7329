package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets of issues 5 and 10, each checked against a baseline of the same
// run.
const (
	targetMeRatio       = 0.50
	targetMeWrkRatio    = 0.75 // me (wrk) over the bare handler (wrk)
	targetRefreshRatio  = 0.50 // refresh over pgbench replaying bench/rotation.sql
	targetMinimalRatio  = 0.80 // refresh@32 over pgbench running bench/rotation_minimal.sql
	targetLoginRatio    = 0.90
	targetRegisterRatio = 0.90
	targetMixedP99ms    = 25.0
	targetPeakRSSMiB    = 48.0
	targetStartupMS     = 150.0 // median time from exec to the first 200 from /livez
)

// Row is one line of the results table.
type Row struct {
	Scenario     string  `json:"scenario"`
	Conns        int     `json:"connections"`
	Stats        *Stats  `json:"stats,omitempty"`
	Rate         float64 `json:"rate_per_s"` // requests/s, or the baseline's operations/s
	Baseline     string  `json:"baseline,omitempty"`
	BaselineRate float64 `json:"baseline_rate_per_s,omitempty"`
	Ratio        float64 `json:"ratio,omitempty"` // successful requests/s over BaselineRate
	Measured     string  `json:"measured,omitempty"`
	Target       string  `json:"target,omitempty"`
	Result       string  `json:"result"`        // PASS, FAIL, or "-" for baselines and figures without a target
	OtherCPU     float64 `json:"other_cpu_pct"` // share of all CPUs that other processes used meanwhile
	Note         string  `json:"note,omitempty"`
}

// Memory is the benchmarked process's memory through the whole run.
type Memory struct {
	HWMKiB    int64   `json:"vm_hwm_kib"`     // peak RSS (VmHWM of /proc/<pid>/status) at the end
	MaxRSSKiB int64   `json:"max_vm_rss_kib"` // largest VmRSS sampled every 100ms
	PeakMiB   float64 `json:"peak_mib"`
}

// Report is everything a run measured; it is written as JSON to -out.
type Report struct {
	Started        time.Time      `json:"started"`
	Elapsed        string         `json:"elapsed"`
	GoVersion      string         `json:"go_version"`
	GOMAXPROCS     int            `json:"gomaxprocs"`
	BcryptCost     int            `json:"bcrypt_cost"`
	Duration       string         `json:"duration_per_scenario"`
	Warmup         string         `json:"warmup_per_scenario"`
	Quick          bool           `json:"quick"`
	QuietWaited    string         `json:"waited_for_idle_cpus"` // before steps, see -quiet-wait
	Retried        int            `json:"steps_rerun"`          // because other processes took the CPUs, see -retries
	Settings       []string       `json:"accountd_settings"`
	Pgbench        *PgbenchResult `json:"pgbench,omitempty"`
	PgbenchMinimal *PgbenchResult `json:"pgbench_minimal,omitempty"` // bench/rotation_minimal.sql
	WrkCommand     string         `json:"wrk_command,omitempty"`     // how wrk drove the bare handler and me
	Startup        *Startup       `json:"startup,omitempty"`
	BcryptCompare  float64        `json:"bcrypt_compares_per_s"`
	BcryptHash     float64        `json:"bcrypt_hashes_per_s"`
	Argon2Compare  float64        `json:"argon2id_compares_per_s"`
	Argon2Memory   Memory         `json:"argon2id_memory"` // of the PASSWORD_HASH=argon2id instance
	Rows           []Row          `json:"rows"`
	Memory         Memory         `json:"memory"`
	AllPass        bool           `json:"all_targets_met"`
}

// ratioRow compares a scenario's successful requests/s with a baseline.
func ratioRow(name string, conns int, s Stats, baseline string, baseRate float64) Row {
	r := Row{Scenario: name, Conns: conns, Stats: &s, Rate: s.RPS, Baseline: baseline, BaselineRate: baseRate, Result: "-"}
	if baseRate > 0 {
		r.Ratio = s.GoodRPS / baseRate
		r.Measured = fmt.Sprintf("%.2f", r.Ratio)
	}
	return r
}

// judge sets r's target text and its PASS or FAIL.
func (r *Row) judge(target string, ok bool) {
	r.Target = target
	r.Result = "FAIL"
	if ok {
		r.Result = "PASS"
	}
}

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func errorText(s *Stats) string {
	if s == nil {
		return "-"
	}
	if s.ErrorCount() == 0 && s.Invalid == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.Errors)) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, s.Errors[k]))
	}
	if s.Invalid > 0 {
		parts = append(parts, fmt.Sprintf("invalid:%d", s.Invalid))
	}
	return strings.Join(parts, " ")
}

// Print writes the header and the aligned table.
func (rep *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "accountd-bench %s  GOMAXPROCS=%d  BCRYPT_COST=%d  %s per scenario after a %s warm-up%s\n",
		rep.Started.Format(time.RFC3339), rep.GOMAXPROCS, rep.BcryptCost, rep.Duration, rep.Warmup,
		map[bool]string{true: "  (-quick smoke run)", false: ""}[rep.Quick])
	fmt.Fprintf(w, "accountd runs with %s\n", strings.Join(rep.Settings, " "))
	fmt.Fprintln(w, "LOG_LEVEL=warn: the per-request access log (info) is off, so it does not dominate the figures.")
	fmt.Fprintln(w, "measured = successful requests/s over the baseline's rate in this run; latencies in ms;")
	fmt.Fprintln(w, "other cpu = share of all CPUs that processes outside the benchmark (and its PostgreSQL and Redis) used meanwhile.")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tconns\treq/s\tp50\tp90\tp99\terrors\tbaseline\tbase/s\tmeasured\ttarget\tresult\tother cpu\t")
	for _, r := range rep.Rows {
		p50, p90, p99 := "-", "-", "-"
		if r.Stats != nil {
			p50, p90, p99 = ms(r.Stats.P50ms), ms(r.Stats.P90ms), ms(r.Stats.P99ms)
		}
		rate, base := "-", "-"
		if r.Rate > 0 {
			rate = strconv.FormatFloat(r.Rate, 'f', 1, 64)
		}
		if r.BaselineRate > 0 {
			base = strconv.FormatFloat(r.BaselineRate, 'f', 1, 64)
		}
		conns := "-"
		if r.Conns > 0 {
			conns = strconv.Itoa(r.Conns)
		}
		other := "-"
		if !strings.HasSuffix(r.Scenario, "peak RSS") {
			other = fmt.Sprintf("%.0f%%", r.OtherCPU)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Scenario, conns, rate, p50, p90, p99,
			errorText(r.Stats), dash(r.Baseline), base, dash(r.Measured), dash(r.Target), r.Result, other)
	}
	_ = tw.Flush()
	for _, r := range rep.Rows {
		if r.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.Scenario, r.Note)
		}
	}
	var noisy []string
	for _, r := range rep.Rows {
		if r.OtherCPU > noisyOtherCPU && !slices.Contains(noisy, r.Scenario) {
			noisy = append(noisy, r.Scenario)
		}
	}
	if len(noisy) > 0 {
		fmt.Fprintf(w, "WARNING: other processes used more than %.0f%% of the CPUs during: %s. "+
			"Those figures are unreliable; rerun on a quiet machine.\n", noisyOtherCPU, strings.Join(noisy, ", "))
	}
	verdict := "every target met"
	if !rep.AllPass {
		verdict = "some targets missed (FAIL rows)"
	}
	fmt.Fprintf(w, "\n%s; run took %s (%s of it waiting for idle CPUs; %d steps run again)\n",
		verdict, rep.Elapsed, rep.QuietWaited, rep.Retried)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteJSON writes the report to path, creating its directory.
func (rep *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil { //nolint:gosec // results are not secret
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}
