package shard

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	committed     prometheus.Counter
	deduplicated  prometheus.Counter
	rejected      prometheus.Counter
	commitFailed  prometheus.Counter
	denied        *prometheus.CounterVec
	drain         prometheus.Histogram
	relayed       prometheus.Counter
	conversations prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, r *Router) *metrics {
	m := &metrics{
		committed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_messages_committed_total", Help: "Messages committed to the log and acknowledged.",
		}),
		deduplicated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_messages_deduplicated_total", Help: "Resends answered with the original seq and not stored again.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_shard_rejected_total", Help: "Requests refused because a shard ring was full (answered BUSY).",
		}),
		commitFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_shard_commit_failures_total", Help: "Group commits that failed; their senders got a retryable error.",
		}),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_shard_request_errors_total", Help: "Requests answered with an error, by code.",
		}, []string{"code"}),
		drain: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kefu_shard_drain_requests", Help: "Requests taken by a worker in one drain.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 7),
		}),
		relayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_messages_delivered_total", Help: "Messages and events queued to subscribed connections.",
		}),
		conversations: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kefu_conversations_loaded", Help: "Conversations held in memory by the shards.",
		}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.committed, m.deduplicated, m.rejected, m.commitFailed, m.denied, m.drain, m.relayed, m.conversations)
	for i := range r.workers {
		q := r.workers[i].q
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kefu_shard_ring_depth", Help: "Requests waiting in a shard's ring.",
			ConstLabels: prometheus.Labels{"shard": strconv.Itoa(i)},
		}, func() float64 { return float64(q.Len()) }))
	}
	return m
}
