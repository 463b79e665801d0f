package report

import (
	"maps"

	"github.com/kefu-im/kefu/bench/hist"
)

// Counter names used by the scenarios.
const (
	Attempts     = "attempts"      // dials started
	Connected    = "connected"     // connections welcomed (HELLO accepted)
	Failed       = "failed"        // connections that never got welcomed
	Joined       = "joined"        // OPEN/JOIN answered with JOINED
	Sent         = "sent"          // SENDs in the measured window
	Acked        = "acked"         // of which ACKed
	Delivered    = "delivered"     // of which delivered to the peer (first copy)
	Duplicates   = "duplicates"    // MESSAGEs whose seq was already seen
	Reordered    = "reordered"     // MESSAGEs older than one already delivered
	SendErrors   = "send_errors"   // SENDs answered with ERROR
	Skipped      = "skipped"       // open loop: sends not made (too many unacked)
	SentAll      = "sent_all"      // SENDs including warm-up and drain
	DeliveredAll = "delivered_all" // MESSAGEs including warm-up
	Cycles       = "cycles"        // storm: connect-welcome-close cycles completed
	Pings        = "pings"         // heartbeats sent by the bench
	Expected     = "expected"      // mqtt: deliveries due, acked × subscribers per topic
)

// Histogram names.
const (
	HistConnect = "connect" // dial to WELCOME
	HistTCP     = "tcp"     // dial to TCP established
	HistAck     = "ack"     // SEND to ACK
	HistE2E     = "e2e"     // SEND to the peer's MESSAGE
)

// Snapshot is the cumulative state of a run (one worker, or several merged):
// counters, reasons and histograms since the start. Two snapshots of the
// same run subtract into an interval (Diff).
type Snapshot struct {
	// At is when the snapshot was taken (Unix nanoseconds; the latest of
	// the parts of a merged snapshot).
	At int64 `json:"at,omitempty"`
	// Phase is what the scenario is doing: connect, warmup, measure,
	// drain, hold, churn, done.
	Phase string `json:"phase"`
	// Open is the number of welcomed connections open now.
	Open int64 `json:"open"`
	// Counters by name (the constants above).
	Counters map[string]int64 `json:"counters,omitempty"`
	// Failures counts connections that never got welcomed, by reason.
	Failures map[string]int64 `json:"failures,omitempty"`
	// Closes counts welcomed connections that closed, by reason.
	Closes map[string]int64 `json:"closes,omitempty"`
	// Errors counts ERROR replies after the handshake, by code.
	Errors map[string]int64 `json:"errors,omitempty"`
	// Hists holds the latency histograms (nanoseconds) by name.
	Hists map[string]hist.Snap `json:"hists,omitempty"`
	// SetupSeconds is how long the connect phase took (first dial to last
	// connection resolved).
	SetupSeconds float64 `json:"setup_seconds,omitempty"`
	// MeasureSeconds is the length of the measured window.
	MeasureSeconds float64 `json:"measure_seconds,omitempty"`
	// CPU used by the process(es) that produced the snapshot.
	CPUUser float64 `json:"cpu_user,omitempty"`
	CPUSys  float64 `json:"cpu_sys,omitempty"`
}

// Counter returns a counter (0 when absent).
func (s *Snapshot) Counter(name string) int64 { return s.Counters[name] }

// Merge returns the union of a and b (two workers of one run): counters,
// reasons and histograms add up, SetupSeconds and MeasureSeconds are the
// longest, Phase is a's (b's when a has none).
func Merge(a, b Snapshot) Snapshot {
	out := Snapshot{
		At:             max(a.At, b.At),
		Phase:          a.Phase,
		Open:           a.Open + b.Open,
		Counters:       addMaps(a.Counters, b.Counters),
		Failures:       addMaps(a.Failures, b.Failures),
		Closes:         addMaps(a.Closes, b.Closes),
		Errors:         addMaps(a.Errors, b.Errors),
		SetupSeconds:   max(a.SetupSeconds, b.SetupSeconds),
		MeasureSeconds: max(a.MeasureSeconds, b.MeasureSeconds),
		CPUUser:        a.CPUUser + b.CPUUser,
		CPUSys:         a.CPUSys + b.CPUSys,
	}
	if out.Phase == "" {
		out.Phase = b.Phase
	}
	if len(a.Hists)+len(b.Hists) > 0 {
		out.Hists = make(map[string]hist.Snap, max(len(a.Hists), len(b.Hists)))
		for k, v := range a.Hists {
			out.Hists[k] = hist.Merge(v, b.Hists[k])
		}
		for k, v := range b.Hists {
			if _, ok := a.Hists[k]; !ok {
				out.Hists[k] = hist.Merge(hist.Snap{}, v)
			}
		}
	}
	return out
}

// Seconds returns the time from prev to cur by their At (0 if unknown).
func Seconds(cur, prev Snapshot) float64 {
	if cur.At == 0 || prev.At == 0 {
		return 0
	}
	return float64(cur.At-prev.At) / 1e9
}

// Diff returns what happened between prev and cur, two snapshots of the
// same run: counters and reasons subtracted, histograms of the interval.
// Open and Phase are cur's.
func Diff(cur, prev Snapshot) Snapshot {
	out := Snapshot{
		At:       cur.At,
		Phase:    cur.Phase,
		Open:     cur.Open,
		Counters: subMaps(cur.Counters, prev.Counters),
		Failures: subMaps(cur.Failures, prev.Failures),
		Closes:   subMaps(cur.Closes, prev.Closes),
		Errors:   subMaps(cur.Errors, prev.Errors),
		CPUUser:  cur.CPUUser - prev.CPUUser,
		CPUSys:   cur.CPUSys - prev.CPUSys,
	}
	if len(cur.Hists) > 0 {
		out.Hists = make(map[string]hist.Snap, len(cur.Hists))
		for k, v := range cur.Hists {
			out.Hists[k] = hist.Sub(v, prev.Hists[k])
		}
	}
	return out
}

// Sum returns the total of a reason map.
func Sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func addMaps(a, b map[string]int64) map[string]int64 {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := maps.Clone(a)
	if out == nil {
		out = make(map[string]int64, len(b))
	}
	for k, v := range b {
		out[k] += v
	}
	return out
}

func subMaps(a, b map[string]int64) map[string]int64 {
	if len(a) == 0 {
		return nil
	}
	out := make(map[string]int64, len(a))
	for k, v := range a {
		if d := v - b[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
