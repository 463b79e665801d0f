package storage

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// readOp labels read_duration_seconds.
type readOp uint8

const (
	readHistory readOp = iota
	readHistoryBefore
	readLastSeq
	readDedup
	readConversation
	readGet
	readScan
	numReadOps
)

var readOpNames = [numReadOps]string{
	readHistory:       "history",
	readHistoryBefore: "history_before",
	readLastSeq:       "last_seq",
	readDedup:         "dedup",
	readConversation:  "conversation",
	readGet:           "get",
	readScan:          "scan_prefix",
}

// metrics holds the store's Prometheus handles, bound once at Open. A nil
// *metrics (no Registerer) turns every method into a no-op.
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector

	commits        prometheus.Counter
	commitErrors   prometheus.Counter
	committedOps   prometheus.Counter
	commitDuration prometheus.Observer
	batchOps       prometheus.Observer
	read           [numReadOps]prometheus.Observer
}

func newMetrics(reg prometheus.Registerer, s *Store) (*metrics, error) {
	commits := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kefu_storage_commits_total",
		Help: "Batch commits that succeeded.",
	})
	commitErrors := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kefu_storage_commit_errors_total",
		Help: "Batch commits that failed (their operations were discarded).",
	})
	committedOps := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kefu_storage_committed_ops_total",
		Help: "Operations (puts and deletes) in successful commits.",
	})
	commitDuration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "kefu_storage_commit_duration_seconds",
		Help: "Time from Commit to durable under the store's durability (includes fsync wait when sync).",
		// 50µs .. 102.4ms.
		Buckets: prometheus.ExponentialBuckets(50e-6, 2, 12),
	})
	batchOps := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kefu_storage_batch_ops",
		Help:    "Operations per committed batch (group commit size).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 12), // 1 .. 2048
	})
	readDuration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kefu_storage_read_duration_seconds",
		Help: "Duration of successful reads, by operation (History includes its callbacks).",
		// 10µs .. 82ms.
		Buckets: prometheus.ExponentialBuckets(10e-6, 2, 14),
	}, []string{"op"})
	m := &metrics{
		reg:            reg,
		commits:        commits,
		commitErrors:   commitErrors,
		committedOps:   committedOps,
		commitDuration: commitDuration,
		batchOps:       batchOps,
	}
	for op := range numReadOps {
		m.read[op] = readDuration.WithLabelValues(readOpNames[op])
	}
	for _, c := range []prometheus.Collector{
		commits, commitErrors, committedOps, commitDuration, batchOps, readDuration,
		&pebbleCollector{s: s},
	} {
		if err := reg.Register(c); err != nil {
			m.unregister()
			return nil, err
		}
		m.collectors = append(m.collectors, c)
	}
	return m, nil
}

// unregister removes everything newMetrics registered, so a store can be
// reopened with the same Registerer.
func (m *metrics) unregister() {
	if m == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
	m.collectors = nil
}

// now returns the start time of a timed operation, or the zero time when
// metrics are off (no clock read).
func (m *metrics) now() time.Time {
	if m == nil {
		return time.Time{}
	}
	return time.Now()
}

func (m *metrics) commitDone(start time.Time, ops uint32, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.commitErrors.Inc()
		return
	}
	m.commitDuration.Observe(time.Since(start).Seconds())
	m.commits.Inc()
	m.committedOps.Add(float64(ops))
	m.batchOps.Observe(float64(ops))
}

func (m *metrics) readDone(op readOp, start time.Time) {
	if m == nil {
		return
	}
	m.read[op].Observe(time.Since(start).Seconds())
}

// pebbleCollector exports a few Pebble gauges and counters at scrape time;
// after Close it exports nothing.
type pebbleCollector struct {
	s *Store
}

var (
	descDiskUsage = prometheus.NewDesc("kefu_storage_disk_usage_bytes",
		"Bytes on disk used by the store (sstables, WAL, manifest).", nil, nil)
	descWAL = prometheus.NewDesc("kefu_storage_wal_bytes",
		"Live bytes in the write-ahead log.", nil, nil)
	descMemTable = prometheus.NewDesc("kefu_storage_memtable_bytes",
		"Bytes allocated by memtables and large batches.", nil, nil)
	descReadAmp = prometheus.NewDesc("kefu_storage_read_amplification",
		"Pebble read amplification (L0 sublevels plus non-empty levels).", nil, nil)
	descFlushes = prometheus.NewDesc("kefu_storage_flushes_total",
		"Memtable flushes since the store was opened.", nil, nil)
	descCompactions = prometheus.NewDesc("kefu_storage_compactions_total",
		"Compactions since the store was opened.", nil, nil)
	descCacheHits = prometheus.NewDesc("kefu_storage_block_cache_hits_total",
		"Block cache hits since the store was opened.", nil, nil)
	descCacheMisses = prometheus.NewDesc("kefu_storage_block_cache_misses_total",
		"Block cache misses since the store was opened.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *pebbleCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDiskUsage, descWAL, descMemTable, descReadAmp,
		descFlushes, descCompactions, descCacheHits, descCacheMisses} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *pebbleCollector) Collect(ch chan<- prometheus.Metric) {
	sum, err := c.s.Metrics()
	if err != nil {
		return
	}
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	ch <- prometheus.MustNewConstMetric(descDiskUsage, gauge, float64(sum.DiskUsageBytes))
	ch <- prometheus.MustNewConstMetric(descWAL, gauge, float64(sum.WALBytes))
	ch <- prometheus.MustNewConstMetric(descMemTable, gauge, float64(sum.MemTableBytes))
	ch <- prometheus.MustNewConstMetric(descReadAmp, gauge, float64(sum.ReadAmp))
	ch <- prometheus.MustNewConstMetric(descFlushes, counter, float64(sum.Flushes))
	ch <- prometheus.MustNewConstMetric(descCompactions, counter, float64(sum.Compactions))
	ch <- prometheus.MustNewConstMetric(descCacheHits, counter, float64(sum.BlockCacheHits))
	ch <- prometheus.MustNewConstMetric(descCacheMisses, counter, float64(sum.BlockCacheMisses))
}
