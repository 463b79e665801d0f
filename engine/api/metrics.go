package api

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the API's Prometheus figures. Labels are the route pattern
// ("GET /api/v1/agents/{id}", or "unmatched") and the status code: both
// small fixed sets, never an id.
type metrics struct {
	reg      prometheus.Registerer
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_api_requests_total", Help: "REST API requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kefu_api_request_duration_seconds", Help: "REST API request durations by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8), // 0.5ms .. 8s
		}, []string{"route"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.duration} {
			if err := reg.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if errors.As(err, &are) {
					return nil, errors.New("api: metrics already registered (two APIs on one registry)")
				}
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) request(route string, code int) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
}

func (m *metrics) observe(route string, d time.Duration) {
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) unregister() {
	if m.reg != nil {
		m.reg.Unregister(m.requests)
		m.reg.Unregister(m.duration)
	}
}
