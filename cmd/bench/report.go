package main

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// tableLine is one printed line: a row's path on its first figure only.
type tableLine struct {
	Path, Figure, UCC, Base, Ratio string
	na                             bool // UCC holds a long "not available" text
}

func tableLines(rep *report) []tableLine {
	var lines []tableLine
	for _, r := range rep.Rows {
		if r.NA != "" {
			lines = append(lines, tableLine{Path: r.Path, Figure: "—", UCC: r.NA, Base: r.Baseline, Ratio: "—", na: true})
			continue
		}
		for i, f := range r.Figures {
			l := tableLine{Figure: f.Name, UCC: formatSamples(f.UCC, f.Unit), Base: formatSamples(f.Base, f.Unit), Ratio: formatRatio(f)}
			if i == 0 {
				l.Path = r.Path
			}
			if f.Base == nil {
				l.Base = "—"
			}
			lines = append(lines, l)
		}
	}
	return lines
}

// sizesLine says which data sizes and durations the run used.
func sizesLine(rep *report) string {
	s := rep.Sizes
	return fmt.Sprintf("-size=%s: %d creators, %d videos, %d comments on the watched video, flush of %d views over %d videos, "+
		"revenue over %d days (%d buckets), upload of %s; %d runs per row, %s per HTTP run, %d connections, %d simulated viewers in the mixed load",
		s.Name, s.Creators, s.Videos, s.Comments, s.FlushViews, s.FlushVideos, s.RevenueDays, s.RevenueDays*s.Videos,
		formatBytes(s.UploadBytes), s.Runs, s.Duration, rep.Conns, s.MixedViewers)
}

// renderTable is the plain-text table printed on stdout.
func renderTable(rep *report) string {
	lines := tableLines(rep)
	head := tableLine{Path: "path", Figure: "figure", UCC: "UCC median (min–max)", Base: "baseline median (min–max)", Ratio: "ratio"}
	all := append([]tableLine{head}, lines...)
	w := [5]int{}
	for _, l := range all {
		for i, c := range []string{l.Path, l.Figure, l.UCC, l.Base, l.Ratio} {
			if l.na && i == 2 {
				continue
			}
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	w[0] = min(w[0], 70)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s\n\n", sizesLine(rep))
	pad := func(s string, n int) string {
		if c := utf8.RuneCountInString(s); c < n {
			return s + strings.Repeat(" ", n-c)
		}
		return s
	}
	for i, l := range all {
		if l.na {
			fmt.Fprintf(&b, "%s  %s  %s\n", pad(l.Path, w[0]), pad(l.Figure, w[1]), l.UCC)
			continue
		}
		fmt.Fprintf(&b, "%s  %s  %s  %s  %s\n", pad(l.Path, w[0]), pad(l.Figure, w[1]), pad(l.UCC, w[2]), pad(l.Base, w[3]), l.Ratio)
		if i == 0 {
			fmt.Fprintln(&b, strings.Repeat("-", w[0]+w[1]+w[2]+w[3]+w[4]+8))
		}
	}
	if s := slowestRatio(rep); s != "" {
		fmt.Fprintf(&b, "\nslowest ratio: %s\n", s)
	}
	fmt.Fprintf(&b, "(ratio: how many times worse than the baseline, on medians; took %s)\n", rep.Elapsed.Round(1e9))
	return b.String()
}

// slowestRatio names the row whose headline figure (its first: requests/s,
// MB/s or seconds) is furthest from its baseline. Latency ratios of a
// saturated server mostly measure its queue, so they do not compete.
func slowestRatio(rep *report) string {
	best, where := 0.0, ""
	for _, r := range rep.Rows {
		for _, f := range r.Figures[:min(1, len(r.Figures))] {
			if !f.HasBaseline() {
				continue
			}
			if x := f.Ratio(); !math.IsNaN(x) && x > best {
				best, where = x, fmt.Sprintf("%s, %s: %s", r.Path, f.Name, formatRatio(f))
			}
		}
	}
	return where
}

// renderMarkdown is BENCHMARKS.md.
func renderMarkdown(rep *report) string {
	var b strings.Builder
	m := rep.Machine
	b.WriteString("# UCC benchmarks\n\n")
	b.WriteString("Written by `make bench` (`go run ./cmd/testenv -- go run ./cmd/bench $(BENCHFLAGS)`); the figures below are from one run. ")
	b.WriteString("Every row is set against a baseline measured in the same run, on the same machine, with the same client and connection count, ")
	b.WriteString("runs of UCC and baseline alternating, so the **ratio** (how many times worse than the baseline, on medians: ")
	b.WriteString("baseline/UCC for throughput, UCC/baseline for times) holds on a noisy shared machine even when the absolute numbers move.\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", rep.Date.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %d cores (%s), %d MiB memory, %s\n", m.Cores, orUnknown(m.CPU), m.MemoryMB, orUnknown(m.Kernel))
	fmt.Fprintf(&b, "- Go: %s\n", orUnknown(m.Go))
	fmt.Fprintf(&b, "- PostgreSQL: %s\n", orUnknown(m.Postgres))
	fmt.Fprintf(&b, "- Redis: %s\n", orUnknown(m.Redis))
	fmt.Fprintf(&b, "- Object storage: %s\n", rep.Storage)
	fmt.Fprintf(&b, "- Sizes: %s\n", sizesLine(rep))
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min; the machine is shared): %s at the start, %s at the end\n", rep.LoadAvg[0], rep.LoadAvg[1])
	fmt.Fprintf(&b, "- Command: `%s`; the whole run took %s\n\n", rep.Command, rep.Elapsed.Round(1e9))
	b.WriteString("| path | figure | UCC median (min–max) | baseline in the same run, median (min–max) | ratio |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, r := range rep.Rows {
		if r.NA != "" {
			fmt.Fprintf(&b, "| %s | — | %s | %s | — |\n", escapeCell(r.Path), escapeCell(r.NA), escapeCell(r.Baseline))
			continue
		}
		for i, f := range r.Figures {
			path, base := "", formatSamples(f.Base, f.Unit)
			if i == 0 {
				path = r.Path
			}
			if f.Base != nil && i == 0 {
				base = r.Baseline + ": " + base
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", escapeCell(path), escapeCell(f.Name),
				escapeCell(formatSamples(f.UCC, f.Unit)), escapeCell(base), formatRatio(f))
		}
	}
	if s := slowestRatio(rep); s != "" {
		fmt.Fprintf(&b, "\nSlowest ratio: %s.\n", s)
	}
	b.WriteString("\n## Notes per row\n\n")
	for _, r := range rep.Rows {
		fmt.Fprintf(&b, "- **%s** (`-rows=%s`): ", r.Path, r.Key)
		if r.NA != "" {
			b.WriteString(r.NA + ".")
		} else if len(r.Notes) == 0 {
			b.WriteString("—")
		} else {
			b.WriteString(strings.Join(r.Notes, "; ") + ".")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## How it is measured\n\n")
	b.WriteString(methodText)
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

const methodText = `- ` + "`ucc`" + ` is built with ` + "`go build -trimpath`" + ` and runs as ` + "`ucc serve --role web`" + ` on a free loopback port, against
  a fresh PostgreSQL database (` + "`ucc_bench_<random>`" + `, dropped at the end), a fresh Redis key prefix (deleted at the end)
  and, with MinIO, the ` + "`s3`" + ` driver on a fresh bucket. The web role is the process that serves the measured paths; the
  worker role's jobs (transcoding each upload with ffmpeg, the periodic view flush) would compete for the same two cores
  at random moments, so the flush and the revenue calculation are measured on their own rows, calling the same code
  in-process. ` + "`UCC_LOG_LEVEL=error`" + ` keeps request logs out of the measurement, the per-network view limits off (` + "`UCC_VIEW_IP_HOURLY_CAP=0`" + ` and the other ` + "`UCC_VIEW_*_CAP`" + `s, ` + "`UCC_VIEW_CREATOR_NETWORK_TTL=0s`" + `) because every
  request comes from 127.0.0.1, and ` + "`UCC_VIEW_MIN_WATCH=1s`" + ` so the mixed load's viewers wait one second, not 30, before
  reporting.
- Data is seeded with set-based SQL (` + "`INSERT ... SELECT generate_series`" + ` and COPY), never through the API, except where the
  API path is what is measured, then VACUUM ANALYZEd as autovacuum would. Every video is ready and public with a thumbnail
  and two renditions, and has daily view buckets for each of the last 7 days (the trending window); the watched video has
  the comments (half top-level, half replies). Viewer accounts get API tokens inserted by hash, as ` + "`IssueToken`" + ` stores them.
- The HTTP baselines are a bare gin engine (no middleware) served by the bench binary re-executed as its own process on another
  loopback port: one handler answers 204 (reading and dropping the body), the other executes a static ` + "`html/template`" + ` page of
  24 cards. The load generator is a Go ` + "`net/http`" + ` client in the bench process: N goroutines, each with its own keep-alive
  connection, sending back to back for a fixed time; requests/s counts completed requests, p50/p99 are over every request of the run.
  Client, servers, PostgreSQL, Redis and MinIO share the same cores, so figures are lower than on a dedicated load-generator setup;
  the ratio is the figure to compare.
- requests/s counts requests answered with the expected status; when UCC requests failed (errors, timeouts after 30 s),
  the row shows their share as "failed requests" and the notes give the first error. A baseline run with more than 1%
  failures, or a UCC run where every request failed, fails the row instead of reporting a number.
`
