package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// samples are the values one figure took over the runs.
type samples []float64

func (s samples) sorted() []float64 {
	c := slices.Clone([]float64(s))
	slices.Sort(c)
	return c
}

// Median is the middle value (mean of the two middle ones for an even count).
func (s samples) Median() float64 {
	c := s.sorted()
	n := len(c)
	switch {
	case n == 0:
		return math.NaN()
	case n%2 == 1:
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

// Min is the smallest value.
func (s samples) Min() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return slices.Min(s)
}

// Max is the largest value.
func (s samples) Max() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return slices.Max(s)
}

// unit says how a figure is printed and which direction is better.
type unit struct {
	Name         string // "req/s", "ms", "s", "MB/s", "MiB", "%"
	HigherBetter bool
}

var (
	unitRPS     = unit{"req/s", true}
	unitMs      = unit{"ms", false}
	unitSeconds = unit{"s", false}
	unitMBps    = unit{"MB/s", true}
	unitMiB     = unit{"MiB", false}
	unitPercent = unit{"%", false}
)

// figure is one measured quantity of a row: UCC's samples and, when the row
// has one, the baseline's samples from the same runs.
type figure struct {
	Name string
	Unit unit
	UCC  samples
	Base samples // nil: no baseline for this figure
}

// Ratio is how many times worse UCC is than the baseline, on medians:
// baseline/UCC for throughput, UCC/baseline for times and sizes. 1.0 means
// as good as the baseline; NaN when there is no baseline.
func (f figure) Ratio() float64 {
	if f.Base == nil {
		return math.NaN()
	}
	u, b := f.UCC.Median(), f.Base.Median()
	if f.Unit.HigherBetter {
		return safeDiv(b, u)
	}
	return safeDiv(u, b)
}

// HasBaseline reports whether the figure is set against a baseline.
func (f figure) HasBaseline() bool { return f.Base != nil }

func safeDiv(a, b float64) float64 {
	if b == 0 {
		if a == 0 {
			return 1
		}
		return math.Inf(1)
	}
	return a / b
}

// row is one line of the table.
type row struct {
	Key      string // short name for -rows
	Path     string // what is measured
	Baseline string // what it is set against
	Figures  []figure
	Notes    []string
	NA       string // "not available: reason" when the row could not run
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// formatValue prints v in the figure's unit with sensible precision.
func formatValue(v float64, u unit) string {
	if math.IsNaN(v) {
		return "—"
	}
	switch u {
	case unitRPS:
		return fmt.Sprintf("%.0f", v)
	case unitMs:
		if v < 10 {
			return fmt.Sprintf("%.2f", v)
		}
		return fmt.Sprintf("%.1f", v)
	case unitSeconds:
		if v < 1 {
			return fmt.Sprintf("%.3f", v)
		}
		if v < 10 {
			return fmt.Sprintf("%.2f", v)
		}
		return fmt.Sprintf("%.1f", v)
	case unitPercent:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// formatSamples prints "median (min–max) unit", or just "median unit" for
// one run.
func formatSamples(s samples, u unit) string {
	if s == nil {
		return "—"
	}
	med := formatValue(s.Median(), u)
	if len(s) < 2 {
		return med + " " + u.Name
	}
	return fmt.Sprintf("%s (%s–%s) %s", med, formatValue(s.Min(), u), formatValue(s.Max(), u), u.Name)
}

func formatRatio(f figure) string {
	if !f.HasBaseline() {
		return "—"
	}
	r := f.Ratio()
	switch {
	case math.IsInf(r, 0) || math.IsNaN(r):
		return "∞"
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

// escapeCell makes s safe inside a Markdown table cell.
func escapeCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}
