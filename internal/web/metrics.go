package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/errs"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucc_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ucc_http_request_duration_seconds", Help: "HTTP request duration by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe counts a request. The method label is one of the standard
// methods or OTHER: a client chooses the method it sends, and every label
// value is a series kept for the life of the process, so raw methods would
// let anyone grow the metrics (and the memory holding them) without end.
// Routes are the route table's patterns (or "unmatched"), never raw paths.
func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	method = metricMethod(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

// metricMethod is the label of a request method: itself when standard, else OTHER.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// MetricsHandler serves the Prometheus metrics without any check, for the
// separate metrics listener (UCC_METRICS_ADDR), which only the monitoring
// network should reach.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{Registry: s.deps.Registry})
}

// metricsRoute is GET /metrics on the public listener: only for a caller
// with the metrics token (Authorization: Bearer UCC_METRICS_TOKEN); 404
// when no token is configured (metrics are then served only on the
// metrics listener, if any). Metrics name routes, error rates and the
// process's insides: nothing for the public.
func (s *Server) metricsRoute() gin.HandlerFunc {
	h := s.MetricsHandler()
	return func(c *gin.Context) {
		if s.cfg.MetricsToken == "" {
			s.fail(c, errNoRoute)
			return
		}
		if !s.operator(c) {
			s.fail(c, errs.NewVariant(errs.ErrUnauthorized, "unauthorized", "metrics", "send the metrics token: Authorization: Bearer <UCC_METRICS_TOKEN>"))
			return
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
}

// operator reports whether the request carries the metrics token.
func (s *Server) operator(c *gin.Context) bool {
	if s.cfg.MetricsToken == "" {
		return false
	}
	tok, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.MetricsToken)) == 1
}
