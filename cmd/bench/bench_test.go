package main

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/testenv"
)

// TestMain lets the test binary serve as the baseline server too: run
// re-executes its own binary with baselineEnv set.
func TestMain(m *testing.M) {
	if addr := os.Getenv(baselineEnv); addr != "" {
		os.Exit(serveBaseline(addr))
	}
	os.Exit(m.Run())
}

// TestBenchTiny runs the whole bench at -size=tiny with one-second runs: it
// checks that every row is in the table, with finite ratios where there is a
// baseline, and that BENCHMARKS.md is written. It never asserts on speed.
func TestBenchTiny(t *testing.T) {
	testenv.PostgresURL(t)
	testenv.RedisURL(t)
	if os.Getenv("UCC_TEST_S3_ENDPOINT") != "" {
		testenv.S3Server(t)
	}
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	opts, err := parseOptions([]string{"-size=tiny", "-duration=1s", "-runs=2", "-out=" + out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr strings.Builder
	rep, err := run(ctx, opts, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	if len(rep.Rows) != len(rowDefs) {
		t.Fatalf("got %d rows, want %d", len(rep.Rows), len(rowDefs))
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rep.Rows {
		def := rowDefs[i]
		if r.Key != def.key {
			t.Errorf("row %d is %q, want %q", i, r.Key, def.key)
		}
		if !strings.Contains(stdout.String(), r.Path) || !strings.Contains(string(md), r.Path) {
			t.Errorf("row %s (%q) is missing from the printed table or BENCHMARKS.md", r.Key, r.Path)
		}
		if r.NA != "" {
			if !strings.HasPrefix(r.NA, "not available: ") {
				t.Errorf("row %s: %s", r.Key, r.NA)
			}
			t.Logf("row %s: %s", r.Key, r.NA)
			continue
		}
		if len(r.Figures) == 0 {
			t.Errorf("row %s has no figures", r.Key)
		}
		for _, f := range r.Figures {
			if len(f.UCC) != opts.Size.Runs {
				t.Errorf("row %s %s: %d samples, want %d", r.Key, f.Name, len(f.UCC), opts.Size.Runs)
			}
			for _, v := range f.UCC {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Errorf("row %s %s: sample %v", r.Key, f.Name, v)
				}
			}
			if def.baseline != "—" && f.HasBaseline() {
				if x := f.Ratio(); math.IsNaN(x) || math.IsInf(x, 0) || x <= 0 {
					t.Errorf("row %s %s: ratio %v is not a finite positive number", r.Key, f.Name, x)
				}
			}
		}
	}
	for _, want := range []string{"Machine:", "PostgreSQL:", "Redis:", "Go:", "Sizes: -size=tiny", "| path |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("BENCHMARKS.md lacks %q", want)
		}
	}
	// The home page has been on main since the foundation: it must measure.
	for _, r := range rep.Rows {
		if r.Key == "home" && r.NA != "" {
			t.Errorf("home row did not run: %s", r.NA)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-size=small", "-upload=2GiB", "-rows=view,flush"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Size.UploadBytes != 2<<30 || !o.Rows["view"] || !o.Rows["flush"] || o.Rows["home"] {
		t.Errorf("parsed %+v", o)
	}
	for _, bad := range [][]string{{"-size=huge"}, {"-rows=nope"}, {"-upload=12"}, {"-conns=0"}, {"extra"}} {
		if _, err := parseOptions(bad, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) accepted", bad)
		}
	}
}

func TestSamplesAndRatio(t *testing.T) {
	s := samples{3, 1, 2, 10}
	if s.Median() != 2.5 || s.Min() != 1 || s.Max() != 10 {
		t.Errorf("median/min/max of %v = %v %v %v", s, s.Median(), s.Min(), s.Max())
	}
	thr := figure{Unit: unitRPS, UCC: samples{100}, Base: samples{400}}
	if thr.Ratio() != 4 {
		t.Errorf("throughput ratio = %v, want 4", thr.Ratio())
	}
	tm := figure{Unit: unitSeconds, UCC: samples{3}, Base: samples{1.5}}
	if tm.Ratio() != 2 {
		t.Errorf("time ratio = %v, want 2", tm.Ratio())
	}
	if !math.IsNaN((figure{Unit: unitMiB, UCC: samples{1}}).Ratio()) {
		t.Error("a figure without baseline has a ratio")
	}
}
