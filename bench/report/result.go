package report

import (
	"time"

	"github.com/kefu-im/kefu/bench/hist"
)

// Result is everything one run measured; it is what --json prints.
type Result struct {
	Scenario    string    `json:"scenario"`
	Target      string    `json:"target"`
	Transport   string    `json:"transport"`
	Started     time.Time `json:"started"`
	WallSeconds float64   `json:"wall_seconds"`
	Workers     int       `json:"workers"`
	// LoadBefore and LoadAfter are the 1-minute load average of the
	// machine at the start and the end: other work skews a run.
	LoadBefore float64           `json:"load_before,omitempty"`
	LoadAfter  float64           `json:"load_after,omitempty"`
	Params     map[string]string `json:"params,omitempty"`
	Summary    Summary           `json:"summary"`
	Server     *Server           `json:"server,omitempty"`
	Bench      Usage             `json:"bench"`
	Total      Snapshot          `json:"total"`
	Series     []Point           `json:"series,omitempty"`
}

// Summary is the headline figures derived from the final snapshot.
type Summary struct {
	Connected   int64   `json:"connected"`
	Failed      int64   `json:"failed"`
	ConnectRate float64 `json:"connect_rate"` // welcomed per second of the connect phase
	PeakOpen    int64   `json:"peak_open"`

	Sent          int64   `json:"sent,omitempty"`
	Acked         int64   `json:"acked,omitempty"`
	Delivered     int64   `json:"delivered,omitempty"`
	Lost          int64   `json:"lost,omitempty"`    // acked but never delivered (mqtt: deliveries due but missing)
	Unacked       int64   `json:"unacked,omitempty"` // sent, neither acked nor refused
	Duplicates    int64   `json:"duplicates,omitempty"`
	Reordered     int64   `json:"reordered,omitempty"`
	SendErrors    int64   `json:"send_errors,omitempty"`
	Skipped       int64   `json:"skipped,omitempty"`
	OfferedPerSec float64 `json:"offered_per_sec,omitempty"` // 0 = closed loop
	SentPerSec    float64 `json:"sent_per_sec,omitempty"`
	AckedPerSec   float64 `json:"acked_per_sec,omitempty"`
	MsgsPerSec    float64 `json:"msgs_per_sec,omitempty"` // delivered per second

	Cycles       int64   `json:"cycles,omitempty"`
	CyclesPerSec float64 `json:"cycles_per_sec,omitempty"`

	// Latency percentiles in milliseconds, by histogram name.
	Latency map[string]Percentiles `json:"latency,omitempty"`
}

// Percentiles of one histogram, in milliseconds.
type Percentiles struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// PercentilesOf summarizes a histogram of nanoseconds in milliseconds.
func PercentilesOf(s hist.Snap) Percentiles {
	ms := func(v int64) float64 { return float64(v) / 1e6 }
	return Percentiles{
		Count: s.Count,
		Mean:  s.Mean() / 1e6,
		P50:   ms(s.Quantile(0.50)),
		P90:   ms(s.Quantile(0.90)),
		P99:   ms(s.Quantile(0.99)),
		P999:  ms(s.Quantile(0.999)),
		Max:   ms(s.Max),
	}
}

// Server is what was read from the target's side.
type Server struct {
	PID        int     `json:"pid,omitempty"`
	RSSBefore  int64   `json:"rss_before,omitempty"` // bytes
	RSSAfter   int64   `json:"rss_after,omitempty"`  // bytes, largest seen while connections were up
	RSSPerConn float64 `json:"rss_per_conn,omitempty"`
	CPUSeconds float64 `json:"cpu_seconds,omitempty"` // user+sys during the run
	// KernelPerConn is the growth of the kernel's TCP memory (sockstat,
	// both ends of loopback connections) per connection, in bytes.
	KernelPerConn float64 `json:"kernel_per_conn,omitempty"`
	// Metrics read from the target's /metrics at the end (gauges) and
	// their growth during the run (counters), summed over labels.
	Metrics      map[string]float64 `json:"metrics,omitempty"`
	MetricsDelta map[string]float64 `json:"metrics_delta,omitempty"`
	Notes        []string           `json:"notes,omitempty"`
}

// Usage is the CPU the bench itself used.
type Usage struct {
	UserSeconds float64 `json:"user_seconds"`
	SysSeconds  float64 `json:"sys_seconds"`
	// CorePercent is (user+sys) / wall time: 100 = one core busy.
	CorePercent float64 `json:"core_percent"`
}

// Point is one second of a run (the progress line, the charts).
type Point struct {
	T               float64 `json:"t"` // seconds since the start
	Phase           string  `json:"phase"`
	Open            int64   `json:"open"`
	ConnectsPerSec  float64 `json:"connects_per_sec,omitempty"`
	SentPerSec      float64 `json:"sent_per_sec,omitempty"`
	DeliveredPerSec float64 `json:"delivered_per_sec,omitempty"`
	Errors          int64   `json:"errors,omitempty"` // failures, closes and ERROR replies in the second
	// Latency of the scenario's main histogram in the second (e2e for
	// relay, connect otherwise), milliseconds.
	P50 float64 `json:"p50,omitempty"`
	P99 float64 `json:"p99,omitempty"`
	Max float64 `json:"max,omitempty"`
}

// MainHist is the histogram a scenario's progress and charts follow.
func MainHist(scenario string) string {
	if HasMessages(scenario) {
		return HistE2E
	}
	return HistConnect
}

// HasMessages reports whether a scenario sends messages (relay, mqtt,
// mixed) rather than only connecting.
func HasMessages(scenario string) bool {
	return scenario == "relay" || scenario == "mqtt" || scenario == "mixed"
}

// PointOf turns the interval iv (secs long) ending t seconds into the run.
func PointOf(scenario string, t, secs float64, iv Snapshot) Point {
	if secs <= 0 {
		secs = 1
	}
	h := iv.Hists[MainHist(scenario)]
	return Point{
		T:               t,
		Phase:           iv.Phase,
		Open:            iv.Open,
		ConnectsPerSec:  float64(iv.Counter(Connected)) / secs,
		SentPerSec:      float64(iv.Counter(SentAll)) / secs,
		DeliveredPerSec: float64(iv.Counter(DeliveredAll)) / secs,
		Errors:          Sum(iv.Failures) + Sum(iv.Closes) + Sum(iv.Errors),
		P50:             float64(h.Quantile(0.5)) / 1e6,
		P99:             float64(h.Quantile(0.99)) / 1e6,
		Max:             float64(h.Max) / 1e6,
	}
}

// Summarize derives the headline figures from the final snapshot.
// offered is the open-loop rate asked for (0: closed loop or none).
func Summarize(total Snapshot, offered float64, peakOpen int64) Summary {
	s := Summary{
		Connected:     total.Counter(Connected),
		Failed:        total.Counter(Failed),
		PeakOpen:      peakOpen,
		Sent:          total.Counter(Sent),
		Acked:         total.Counter(Acked),
		Delivered:     total.Counter(Delivered),
		Duplicates:    total.Counter(Duplicates),
		Reordered:     total.Counter(Reordered),
		SendErrors:    total.Counter(SendErrors),
		Skipped:       total.Counter(Skipped),
		OfferedPerSec: offered,
		Cycles:        total.Counter(Cycles),
	}
	if total.SetupSeconds > 0 {
		s.ConnectRate = float64(s.Connected) / total.SetupSeconds
	}
	due := s.Acked
	if e, ok := total.Counters[Expected]; ok { // fan-out: each acked message is due to every subscriber
		due = e
	}
	if d := due - s.Delivered; d > 0 {
		s.Lost = d
	}
	if d := s.Sent - s.Acked - s.SendErrors; d > 0 {
		s.Unacked = d
	}
	if m := total.MeasureSeconds; m > 0 {
		s.SentPerSec = float64(s.Sent) / m
		s.AckedPerSec = float64(s.Acked) / m
		s.MsgsPerSec = float64(s.Delivered) / m
		s.CyclesPerSec = float64(s.Cycles) / m
	}
	if len(total.Hists) > 0 {
		s.Latency = make(map[string]Percentiles, len(total.Hists))
		for k, h := range total.Hists {
			if h.Count > 0 {
				s.Latency[k] = PercentilesOf(h)
			}
		}
	}
	return s
}
