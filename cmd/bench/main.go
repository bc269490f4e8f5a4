// Command bench measures UCC's hot paths against what this machine can do
// at best, in one run, and writes BENCHMARKS.md:
//
//	go run ./cmd/testenv -- go run ./cmd/bench [-size small|tiny|full] [flags]
//
// (`make bench` runs exactly that.) It builds the ucc binary in release mode,
// creates a fresh PostgreSQL database (ucc_bench_<random>, dropped at the
// end) and Redis key prefix, seeds data with set-based SQL, starts
// `ucc serve` as its own process on a free loopback port against the S3
// driver on the MinIO that cmd/testenv started, and a bare gin server
// (this binary re-executed) on another port for the HTTP baselines. Each row
// runs several times, alternating UCC and its baseline, and the table shows
// medians, the spread (min–max) and the ratio of medians.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if addr := os.Getenv(baselineEnv); addr != "" {
		os.Exit(serveBaseline(addr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if _, err := run(ctx, opts, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// sizes are the data volumes and durations of one -size preset.
type sizes struct {
	Name         string
	Creators     int           // creator accounts, one channel each
	Videos       int           // ready public videos, spread over the creators
	Viewers      int           // viewer accounts with API tokens (comments)
	Comments     int           // comments on the watch-page video
	FlushViews   int           // pending views in Redis for the flush row
	FlushVideos  int           // ... spread over this many videos
	RevenueDays  int           // daily buckets per video for the revenue row
	UploadBytes  int64         // size of the uploaded file
	Runs         int           // runs per row (median and spread)
	Duration     time.Duration // length of one HTTP load run
	MixedViewers int           // simulated viewers of the mixed-load row
}

var presets = map[string]sizes{
	"tiny": {Name: "tiny", Creators: 20, Videos: 200, Viewers: 20, Comments: 50,
		FlushViews: 10_000, FlushVideos: 200, RevenueDays: 3, UploadBytes: 4 << 20,
		Runs: 2, Duration: time.Second, MixedViewers: 20},
	"small": {Name: "small", Creators: 10_000, Videos: 100_000, Viewers: 500, Comments: 1000,
		FlushViews: 1_000_000, FlushVideos: 100_000, RevenueDays: 30, UploadBytes: 256 << 20,
		Runs: 3, Duration: 5 * time.Second, MixedViewers: 500},
	"full": {Name: "full", Creators: 100_000, Videos: 1_000_000, Viewers: 500, Comments: 1000,
		FlushViews: 1_000_000, FlushVideos: 100_000, RevenueDays: 30, UploadBytes: 2 << 30,
		Runs: 5, Duration: 10 * time.Second, MixedViewers: 500},
}

// options are the parsed command-line flags.
type options struct {
	Size        sizes
	Conns       int
	Out         string // BENCHMARKS.md path; "" = <module root>/BENCHMARKS.md, "-" = none
	Rows        map[string]bool
	Verbose     bool
	Keep        bool
	MixedLength time.Duration
}

// rowKeys are the rows in table order, for -rows.
var rowKeys = []string{"view", "watch", "home", "search", "ksearch", "upload", "flush", "revenue", "mixed"}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fl := flag.NewFlagSet("bench", flag.ContinueOnError)
	fl.SetOutput(stderr)
	size := fl.String("size", "small", "data sizes: tiny (smoke test), small (default, fits 10 minutes on 2 cores) or full (the issue's sizes: 100,000 creators, 1,000,000 videos, 2 GiB upload)")
	runs := fl.Int("runs", 0, "runs per row (default: by -size)")
	dur := fl.Duration("duration", 0, "length of one HTTP load run (default: by -size)")
	upload := fl.String("upload", "", "upload file size, e.g. 256MiB or 2GiB (default: by -size)")
	conns := fl.Int("conns", 64, "connections of the HTTP rows (the mixed row uses one per simulated viewer)")
	viewers := fl.Int("viewers", 0, "simulated viewers of the mixed-load row (default: by -size)")
	mixed := fl.Duration("mixed-duration", 0, "length of one mixed-load run (default: 2 × -duration)")
	out := fl.String("out", "", "where to write BENCHMARKS.md (default: the repository root; - for nowhere)")
	rows := fl.String("rows", "all", "comma-separated rows to run: "+strings.Join(rowKeys, ","))
	verbose := fl.Bool("v", false, "log progress in detail")
	keep := fl.Bool("keep", false, "keep the database (and print its name) instead of dropping it, to look at the seeded data")
	if err := fl.Parse(args); err != nil {
		return options{}, err
	}
	if fl.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	p, ok := presets[*size]
	if !ok {
		return options{}, fmt.Errorf("-size must be tiny, small or full, got %q", *size)
	}
	if *runs < 0 || *runs > 50 {
		return options{}, fmt.Errorf("-runs must be 1 to 50, got %d", *runs)
	}
	if *runs > 0 {
		p.Runs = *runs
	}
	if *dur < 0 {
		return options{}, fmt.Errorf("-duration must be positive")
	}
	if *dur > 0 {
		p.Duration = *dur
	}
	if *upload != "" {
		n, err := parseBytes(*upload)
		if err != nil || n < 1<<20 {
			return options{}, fmt.Errorf("-upload must be a size of at least 1MiB such as 256MiB or 2GiB, got %q", *upload)
		}
		p.UploadBytes = n
	}
	if *viewers < 0 {
		return options{}, fmt.Errorf("-viewers must be positive")
	}
	if *viewers > 0 {
		p.MixedViewers = *viewers
	}
	if p.Viewers < p.MixedViewers {
		p.Viewers = p.MixedViewers
	}
	if *conns < 1 || *conns > 4096 {
		return options{}, fmt.Errorf("-conns must be 1 to 4096, got %d", *conns)
	}
	o := options{Size: p, Conns: *conns, Out: *out, Verbose: *verbose, Keep: *keep, MixedLength: *mixed, Rows: map[string]bool{}}
	if o.MixedLength == 0 {
		o.MixedLength = 2 * p.Duration
	}
	for _, r := range strings.Split(*rows, ",") {
		r = strings.TrimSpace(r)
		if r == "all" {
			for _, k := range rowKeys {
				o.Rows[k] = true
			}
			continue
		}
		known := false
		for _, k := range rowKeys {
			known = known || k == r
		}
		if !known {
			return options{}, fmt.Errorf("-rows: unknown row %q (rows: %s)", r, strings.Join(rowKeys, ","))
		}
		o.Rows[r] = true
	}
	return o, nil
}

// parseBytes reads "256MiB", "2GiB", "4MB" or a plain byte count.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// formatBytes prints a byte count in binary units.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}
