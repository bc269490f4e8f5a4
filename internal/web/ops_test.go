package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestMetricsBehindTokenAndMethodsBounded: /metrics on the public listener
// answers only the metrics token (404 when none is configured); 300 requests
// with made-up methods add one OTHER series, not 300 (before: each method
// became a label value kept for the life of the process, 11 KB grew to
// 463 KB); /readyz names a failing part without its error to anonymous
// callers, with it to the operator.
func TestMetricsBehindTokenAndMethodsBounded(t *testing.T) {
	ts := newTestServer(t, withReadyCheck(ReadyCheck{Name: "storage", Check: func(context.Context) error {
		return errors.New("dial tcp 10.0.0.7:9000: connection refused")
	}}))
	wantStatus(t, ts.do("GET", "/metrics", nil), http.StatusUnauthorized)
	wantStatus(t, ts.do("GET", "/metrics", nil, bearer("wrong")...), http.StatusUnauthorized)
	before := ts.do("GET", "/metrics", nil, bearer(testMetricsToken)...)
	wantStatus(t, before, http.StatusOK)
	for i := 0; i < 300; i++ {
		req, _ := http.NewRequest(fmt.Sprintf("X%08X", i*2654435761), ts.http.URL+"/", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	after := ts.do("GET", "/metrics", nil, bearer(testMetricsToken)...)
	m := string(after.Body)
	t.Logf("/metrics: %d bytes before, %d bytes after 300 made-up methods", len(before.Body), len(after.Body))
	if other := grepLines(m, `ucc_http_requests_total{method="OTHER"`); !strings.HasSuffix(other, "} 300") || strings.Count(other, "\n") != 0 {
		t.Fatalf("the made-up methods are not counted as one OTHER series:\n%s", grepLines(m, "ucc_http_requests_total"))
	}
	if strings.Contains(m, `method="X`) || len(after.Body)-len(before.Body) > 8<<10 {
		t.Fatalf("metrics grew by %d bytes with made-up methods", len(after.Body)-len(before.Body))
	}

	r := ts.do("GET", "/readyz", nil)
	wantStatus(t, r, http.StatusServiceUnavailable)
	var rd struct {
		Failing []string
		Checks  map[string]string
	}
	r.JSON(t, &rd)
	if len(rd.Failing) != 1 || rd.Failing[0] != "storage" || rd.Checks["storage"] != "failing" || strings.Contains(string(r.Body), "10.0.0.7") {
		t.Fatalf("anonymous /readyz: %s", r.Body)
	}
	r = ts.do("GET", "/readyz", nil, bearer(testMetricsToken)...)
	if r.JSON(t, &rd); !strings.Contains(rd.Checks["storage"], "connection refused") {
		t.Fatalf("operator /readyz: %s", r.Body)
	}

	off := newTestServer(t, withWeb(func(c *Config) { c.MetricsToken = "" }))
	wantStatus(t, off.do("GET", "/metrics", nil), http.StatusNotFound)
}
