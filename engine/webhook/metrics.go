package webhook

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the bound handles of the kefu_webhook_* collectors.
type metrics struct {
	reg        prometheus.Registerer // nil: not registered
	collectors []prometheus.Collector

	ok, retry, dead prometheus.Counter
	duration        prometheus.Histogram
	pending         prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_webhook_deliveries_total",
		Help: "Webhook delivery attempts by outcome: ok (2xx), retry (failed, rescheduled), dead (failed, moved to dead letters).",
	}, []string{"result"})
	m := &metrics{
		reg:   reg,
		ok:    deliveries.WithLabelValues("ok"),
		retry: deliveries.WithLabelValues("retry"),
		dead:  deliveries.WithLabelValues("dead"),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kefu_webhook_delivery_duration_seconds",
			Help:    "Duration of one webhook delivery attempt (request to response headers).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12), // 5ms .. ~10s
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kefu_webhook_pending",
			Help: "Deliveries waiting in the outbox (due or backing off), as of the last scan.",
		}),
	}
	m.collectors = []prometheus.Collector{deliveries, m.duration, m.pending}
	if reg == nil {
		return m, nil
	}
	for i, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range m.collectors[:i] {
				reg.Unregister(done)
			}
			return nil, errors.Join(errors.New("webhook: register metrics"), err)
		}
	}
	return m, nil
}

func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}
