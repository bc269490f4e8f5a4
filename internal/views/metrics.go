package views

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the Prometheus metrics of view counting.
type Metrics struct {
	counted     prometheus.Counter
	rejected    *prometheus.CounterVec
	flushed     prometheus.Counter
	flushLag    prometheus.Gauge
	redisErrors prometheus.Counter
	sharedIDs   prometheus.Counter
}

// NewMetrics creates the metrics and registers them on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		counted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ucc_views_counted_total", Help: "View reports counted."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucc_views_rejected_total", Help: "View reports not counted, by reason."}, []string{"reason"}),
		flushed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ucc_views_flushed_total", Help: "Views moved from Redis to PostgreSQL."}),
		flushLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ucc_view_flush_lag_seconds", Help: "Age of the oldest counted view not yet in PostgreSQL (0 when none)."}),
		redisErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ucc_view_redis_errors_total", Help: "View reports and count reads that Redis could not serve."}),
		sharedIDs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ucc_view_shared_ids_total", Help: "Anonymous viewers given their network's shared id (the network was over its minting allowance, or a bot)."}),
	}
	for _, r := range Reasons() {
		m.rejected.WithLabelValues(string(r))
	}
	if reg != nil {
		reg.MustRegister(m.counted, m.rejected, m.flushed, m.flushLag, m.redisErrors, m.sharedIDs)
	}
	return m
}
