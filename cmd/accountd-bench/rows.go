package main

import (
	"fmt"
	"strconv"
	"strings"
)

// results are the figures that measure collected, by step.
type results struct {
	bare32, bare64, bareWrk Stats
	pg, pgMinimal           PgbenchResult
	me32, me64, meWrk       Stats
	refresh, refresh32      Stats
	login, register         Stats
	mixedMe, mixedLogin     Stats
	introspect, jwks        Stats
	argon2Login             Stats
	other                   map[string]float64 // CPU share of other processes, by step
}

// addRows turns the results into the table's rows, each against its
// baseline and target, and sets AllPass.
func (rep *Report) addRows(r results, procs int) {
	baseRow := func(name string, conns int, s *Stats, rate float64, step string) Row {
		return Row{Scenario: name, Conns: conns, Stats: s, Rate: rate, Result: "-", OtherCPU: r.other[step]}
	}
	bare32 := baseRow("bare handler", meConnsLow, &r.bare32, r.bare32.RPS, "bare@32")
	bare32.Note = "baseline: a bare net/http handler in a subprocess, driven like accountd"
	bare64 := baseRow("bare handler", meConnsHigh, &r.bare64, r.bare64.RPS, "bare@64")
	cmp := baseRow("bcrypt compare", procs, nil, rep.BcryptCompare, "bcrypt")
	cmp.Note = "baseline: CompareHashAndPassword/s and GenerateFromPassword/s on GOMAXPROCS goroutines"
	hash := baseRow("bcrypt hash", procs, nil, rep.BcryptHash, "bcrypt")
	bareWrk := baseRow("bare handler (wrk)", wrkConns, &r.bareWrk, r.bareWrk.RPS, "me(wrk)")
	bareWrk.Note = fmt.Sprintf("baseline: the same bare server driven by %s, with me's requests (path and bearer tokens), "+
		"in %d rounds that alternate with me's (so that the machine's drift cancels out)", rep.WrkCommand, turnRounds)
	pg := baseRow("pgbench rotation", r.pg.Clients, nil, r.pg.TPS, "pgbench")
	pg.Note = fmt.Sprintf("baseline: %s; tps without connection time; avg latency %.2f ms; "+
		"%d rotations, every chain checked in the database", r.pg.Command, r.pg.LatencyAvgMS, r.pg.Rotations)
	pgMin := baseRow("pgbench minimal rotation", r.pgMinimal.Clients, nil, r.pgMinimal.TPS, "refresh@32")
	pgMin.Note = fmt.Sprintf("baseline: %s (mark one token used, insert its child: a fixed reference), in %d rounds that "+
		"alternate with refresh's at 32 workers; avg latency %.2f ms; %d rotations, every chain checked in the database",
		r.pgMinimal.Command, turnRounds, r.pgMinimal.LatencyAvgMS, r.pgMinimal.Rotations)

	ratio := func(name string, conns int, s Stats, baseline string, baseRate float64, step string) Row {
		row := ratioRow(name, conns, s, baseline, baseRate)
		row.OtherCPU = r.other[step]
		return row
	}
	me := ratio("me", meConnsLow, r.me32, "bare@"+strconv.Itoa(meConnsLow), r.bare32.RPS, "me@32")
	me.judge(fmt.Sprintf(">=%.2f, 0 errors", targetMeRatio),
		me.Ratio >= targetMeRatio && r.me32.ErrorCount() == 0 && r.me32.Requests > 0)
	me64 := ratio("me", meConnsHigh, r.me64, "bare@"+strconv.Itoa(meConnsHigh), r.bare64.RPS, "me@64")
	meWrk := ratio("me (wrk)", wrkConns, r.meWrk, "bare(wrk)", r.bareWrk.RPS, "me(wrk)")
	meWrk.judge(fmt.Sprintf(">=%.2f, 0 errors", targetMeWrkRatio),
		meWrk.Ratio >= targetMeWrkRatio && r.meWrk.ErrorCount() == 0 && r.meWrk.Requests > 0)
	intro := ratio("introspect", meConnsLow, r.introspect, "bare@"+strconv.Itoa(meConnsLow), r.bare32.RPS, "introspect@32")
	intro.judge(fmt.Sprintf(">=%.2f, 0 errors, all active", targetMeRatio),
		intro.Ratio >= targetMeRatio && r.introspect.ErrorCount() == 0 && r.introspect.Invalid == 0 && r.introspect.Requests > 0)
	jwks := ratio("jwks", meConnsLow, r.jwks, "bare@"+strconv.Itoa(meConnsLow), r.bare32.RPS, "jwks@32")
	ref := ratio("refresh", refreshWorkers, r.refresh, "pgbench", r.pg.TPS, "refresh")
	ref.judge(fmt.Sprintf(">=%.2f, 0 errors, all valid", targetRefreshRatio), ref.Ratio >= targetRefreshRatio &&
		r.refresh.ErrorCount() == 0 && r.refresh.Invalid == 0 && r.refresh.Requests > 0)
	ref.Note = fmt.Sprintf("%d valid rotations of %d requests (invalid: a 200 whose refresh_token cookie is missing or unchanged)",
		r.refresh.Requests-r.refresh.ErrorCount()-r.refresh.Invalid, r.refresh.Requests)
	ref32 := ratio("refresh", minimalClients, r.refresh32, "pgbench minimal", r.pgMinimal.TPS, "refresh@32")
	ref32.judge(fmt.Sprintf(">=%.2f, 0 errors, all valid", targetMinimalRatio), ref32.Ratio >= targetMinimalRatio &&
		r.refresh32.ErrorCount() == 0 && r.refresh32.Invalid == 0 && r.refresh32.Requests > 0)
	ref32.Note = fmt.Sprintf("%d valid rotations of %d requests; two sessions per account, one per worker",
		r.refresh32.Requests-r.refresh32.ErrorCount()-r.refresh32.Invalid, r.refresh32.Requests)
	login := ratio("login", 2*procs, r.login, "bcrypt compare", rep.BcryptCompare, "login")
	login.judge(fmt.Sprintf(">=%.2f", targetLoginRatio), login.Ratio >= targetLoginRatio)
	reg := ratio("register", 2*procs, r.register, "bcrypt hash", rep.BcryptHash, "register")
	reg.judge(fmt.Sprintf(">=%.2f", targetRegisterRatio), reg.Ratio >= targetRegisterRatio)
	mixMe := baseRow("mixed: me", mixedMeConns, &r.mixedMe, r.mixedMe.RPS, "mixed")
	mixMe.Measured = "p99 " + ms(r.mixedMe.P99ms)
	mixMe.Note = fmt.Sprintf("at the same time as %d login connections (next row)", 4*procs)
	mixMe.judge(fmt.Sprintf("p99<%.0fms, 0 errors", targetMixedP99ms),
		r.mixedMe.P99ms < targetMixedP99ms && r.mixedMe.ErrorCount() == 0 && r.mixedMe.Requests > 0)
	mixLogin := ratio("mixed: login", 4*procs, r.mixedLogin, "bcrypt compare", rep.BcryptCompare, "mixed")
	mem := Row{Scenario: "accountd peak RSS", Measured: fmt.Sprintf("%.1f MiB", rep.Memory.PeakMiB),
		Note: fmt.Sprintf("VmHWM %d KiB at the end; largest VmRSS sampled every 100ms %d KiB",
			rep.Memory.HWMKiB, rep.Memory.MaxRSSKiB)}
	mem.judge(fmt.Sprintf("<%.0f MiB", targetPeakRSSMiB), rep.Memory.PeakMiB < targetPeakRSSMiB)
	start := rep.startupRow(r.other["start-up"])
	a2cmp := baseRow("argon2id compare", procs, nil, rep.Argon2Compare, "argon2id")
	a2cmp.Note = "baseline: argon2.IDKey/s at accountd's defaults (19 MiB, t=2, p=1) on GOMAXPROCS goroutines"
	a2login := ratio("login argon2id", 2*procs, r.argon2Login, "argon2id compare", rep.Argon2Compare, "login argon2id")
	a2login.judge(fmt.Sprintf(">=%.2f", targetLoginRatio), a2login.Ratio >= targetLoginRatio)
	a2login.Note = "a second accountd with PASSWORD_HASH=argon2id (default parameters) on the same database"
	a2mem := Row{Scenario: "argon2id peak RSS", Measured: fmt.Sprintf("%.1f MiB", rep.Argon2Memory.PeakMiB), Result: "-",
		Note: "of the PASSWORD_HASH=argon2id accountd: each hash allocates 19 MiB, at most one per CPU at once"}

	rep.Rows = []Row{bare32, bare64, bareWrk, cmp, hash, pg, pgMin, me, me64, meWrk, intro, jwks, ref, ref32,
		login, reg, mixMe, mixLogin, mem, start, a2cmp, a2login, a2mem}
	rep.AllPass = true
	for _, row := range rep.Rows {
		rep.AllPass = rep.AllPass && row.Result != "FAIL"
	}
}

// startupRow is the start-up row, judged on the median of the runs.
func (rep *Report) startupRow(otherCPU float64) Row {
	st := rep.Startup
	if st == nil {
		st = &Startup{}
	}
	row := Row{Scenario: "accountd start-up", OtherCPU: otherCPU,
		Measured: fmt.Sprintf("median %.1f ms, max %.1f ms", st.MedianMS, st.MaxMS)}
	runs := make([]string, len(st.RunsMS))
	for i, v := range st.RunsMS {
		runs[i] = strconv.FormatFloat(v, 'f', 1, 64)
	}
	row.Note = fmt.Sprintf("exec of another accountd serve (same settings, migrated database) to its first 200 from /livez, "+
		"polled every %s; runs %s ms; %d of %d stopped by SIGTERM with exit status 0",
		startupPoll, strings.Join(runs, ", "), st.CleanStops, len(st.RunsMS))
	row.judge(fmt.Sprintf("median<%.0f ms, clean stops", targetStartupMS), len(st.RunsMS) > 0 &&
		st.MedianMS < targetStartupMS && st.CleanStops == len(st.RunsMS))
	return row
}
