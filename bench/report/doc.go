// Package report holds what a run measures and how it is shown: the
// cumulative Snapshot a worker sends every second (counters, reasons,
// histograms) and how snapshots merge (workers) and subtract (intervals);
// the final Result with its Summary, per-second Points and the target's
// figures; and the outputs: the human table, JSON, the live progress line,
// an HTML page with go-echarts charts, and the markdown comparison of
// scripts/bench-compare.sh.
//
// Everything here is plain values and pure functions: safe for concurrent
// use as long as a value is not modified while another goroutine reads it.
// Latencies are nanoseconds in histograms and milliseconds in summaries.
package report
