package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// histOrder is the order latency rows are printed in.
var histOrder = []string{HistE2E, HistAck, HistConnect, HistTCP}

// WriteTable writes the human-readable report.
func WriteTable(w io.Writer, r *Result) error {
	s := &r.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "kefu-bench %s: %s → %s, %d worker(s), %.1fs wall\n", r.Scenario, r.Transport, r.Target, r.Workers, r.WallSeconds)
	if len(r.Params) > 0 {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range r.Params {
				if !yield(k) {
					return
				}
			}
		})
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+"="+r.Params[k])
		}
		fmt.Fprintf(&b, "  %s\n", strings.Join(parts, " "))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "connections\t%d welcomed, %d failed, peak open %d", s.Connected, s.Failed, s.PeakOpen)
	if s.ConnectRate > 0 {
		fmt.Fprintf(tw, ", connect phase %.2fs (%.0f/s)", r.Total.SetupSeconds, s.ConnectRate)
	}
	fmt.Fprintln(tw)
	if HasMessages(r.Scenario) {
		fmt.Fprintf(tw, "messages\tsent %d  acked %d  delivered %d  lost %d  unacked %d  dup %d  reordered %d  errors %d  skipped %d\n",
			s.Sent, s.Acked, s.Delivered, s.Lost, s.Unacked, s.Duplicates, s.Reordered, s.SendErrors, s.Skipped)
		offered := "closed loop"
		if s.OfferedPerSec > 0 {
			offered = fmt.Sprintf("offered %.0f/s", s.OfferedPerSec)
		}
		fmt.Fprintf(tw, "throughput\t%.0f msg/s delivered, %.0f acked/s, %.0f sent/s (%s) over %.1fs\n",
			s.MsgsPerSec, s.AckedPerSec, s.SentPerSec, offered, r.Total.MeasureSeconds)
	}
	if s.Cycles > 0 {
		fmt.Fprintf(tw, "churn\t%d connect/close cycles, %.0f/s\n", s.Cycles, s.CyclesPerSec)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Latency) > 0 {
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "latency ms\tcount\tmean\tp50\tp90\tp99\tp99.9\tmax\t")
		for _, k := range histOrder {
			p, ok := s.Latency[k]
			if !ok {
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", k, p.Count, p.Mean, p.P50, p.P90, p.P99, p.P999, p.Max)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	reasons := func(title string, m map[string]int64) {
		if len(m) == 0 {
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			if m[a] != m[b] {
				return int(m[b] - m[a])
			}
			return strings.Compare(a, b)
		})
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, m[k])
		}
		fmt.Fprintf(&b, "%s: %s\n", title, strings.Join(parts, ", "))
	}
	reasons("connect failures", r.Total.Failures)
	reasons("closes after welcome", r.Total.Closes)
	reasons("error replies", r.Total.Errors)
	if sv := r.Server; sv != nil {
		if sv.PID > 0 {
			fmt.Fprintf(&b, "server pid %d: RSS %s → %s", sv.PID, Bytes(float64(sv.RSSBefore)), Bytes(float64(sv.RSSAfter)))
			if sv.RSSPerConn != 0 {
				fmt.Fprintf(&b, " (%s per connection)", Bytes(sv.RSSPerConn))
			}
			fmt.Fprintf(&b, ", CPU %.2fs", sv.CPUSeconds)
			if sv.KernelPerConn > 0 {
				fmt.Fprintf(&b, ", kernel TCP memory %s per connection (both ends)", Bytes(sv.KernelPerConn))
			}
			fmt.Fprintln(&b)
		}
		if len(sv.Metrics)+len(sv.MetricsDelta) > 0 {
			fmt.Fprintf(&b, "server metrics: %s\n", metricLine(sv))
		}
		for _, n := range sv.Notes {
			fmt.Fprintf(&b, "note: %s\n", n)
		}
	}
	fmt.Fprintf(&b, "bench CPU: %.2fs user + %.2fs sys (%.0f%% of one core)",
		r.Bench.UserSeconds, r.Bench.SysSeconds, r.Bench.CorePercent)
	if r.LoadBefore+r.LoadAfter > 0 {
		fmt.Fprintf(&b, "; machine load %.2f → %.2f", r.LoadBefore, r.LoadAfter)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

func metricLine(sv *Server) string {
	var parts []string
	for _, k := range slices.Sorted(mapKeys(sv.Metrics)) {
		parts = append(parts, fmt.Sprintf("%s=%g", k, sv.Metrics[k]))
	}
	for _, k := range slices.Sorted(mapKeys(sv.MetricsDelta)) {
		parts = append(parts, fmt.Sprintf("Δ%s=%g", k, sv.MetricsDelta[k]))
	}
	return strings.Join(parts, " ")
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Bytes formats a byte count with a binary unit.
func Bytes(v float64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	unit := "B"
	for _, u := range []string{"KiB", "MiB", "GiB"} {
		if v < 1024 {
			break
		}
		v /= 1024
		unit = u
	}
	s := fmt.Sprintf("%.1f %s", v, unit)
	if unit == "B" {
		s = fmt.Sprintf("%.0f B", v)
	}
	if neg {
		return "-" + s
	}
	return s
}

// ProgressLine is the one-line live status: t seconds in, the cumulative
// state cur and the last second iv.
func ProgressLine(scenario string, t float64, cur Snapshot, p Point) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s %s %3.0fs] open %d", scenario, cur.Phase, t, cur.Open)
	switch {
	case HasMessages(scenario):
		fmt.Fprintf(&b, " | %.0f msg/s sent, %.0f delivered | e2e p50 %.2fms p99 %.2fms", p.SentPerSec, p.DeliveredPerSec, p.P50, p.P99)
	default:
		fmt.Fprintf(&b, " | %.0f conn/s | connect p99 %.2fms", p.ConnectsPerSec, p.P99)
	}
	errs := Sum(cur.Failures) + Sum(cur.Errors) + Sum(cur.Closes)
	fmt.Fprintf(&b, " | errors %d", errs)
	return b.String()
}
