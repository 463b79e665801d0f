package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/bench/hist"
)

func snap(n int64, lat ...int64) Snapshot {
	var h hist.Histogram
	for _, v := range lat {
		h.Record(v)
	}
	return Snapshot{
		Phase:          "measure",
		Open:           n,
		Counters:       map[string]int64{Connected: n, Sent: n * 10, Acked: n * 10, Delivered: n*10 - 1, SentAll: n * 12},
		Failures:       map[string]int64{"refused": 1},
		Closes:         map[string]int64{"eof": n},
		Hists:          map[string]hist.Snap{HistE2E: h.Snapshot()},
		SetupSeconds:   float64(n) / 10,
		MeasureSeconds: 2,
		CPUUser:        1,
	}
}

// TestAggregation: worker snapshots merge into totals, and the summary of
// the total is what the parts add up to.
func TestAggregation(t *testing.T) {
	a := snap(10, 1e6, 2e6, 3e6)
	b := snap(30, 4e6)
	tot := Merge(Merge(Snapshot{}, a), b)
	if tot.Open != 40 || tot.Counter(Connected) != 40 || tot.Counter(Sent) != 400 || tot.Failures["refused"] != 2 ||
		tot.Closes["eof"] != 40 || tot.SetupSeconds != 3 || tot.MeasureSeconds != 2 || tot.CPUUser != 2 {
		t.Fatalf("merged %+v", tot)
	}
	if h := tot.Hists[HistE2E]; h.Count != 4 || h.Max != 4e6 || h.Min != 1e6 {
		t.Fatalf("merged histogram %+v", h)
	}
	// The merge does not touch its inputs.
	if a.Counter(Connected) != 10 || a.Hists[HistE2E].Count != 3 {
		t.Fatal("Merge modified an input")
	}
	s := Summarize(tot, 500, 40)
	if s.Connected != 40 || s.Lost != 2 || s.MsgsPerSec != 199 || s.SentPerSec != 200 || s.ConnectRate != 40/3.0 || s.Unacked != 0 {
		t.Fatalf("summary %+v", s)
	}
	if p := s.Latency[HistE2E]; p.Count != 4 || p.Max != 4 || p.P50 < 1.99 || p.P50 > 2.01 {
		t.Fatalf("percentiles %+v", p)
	}
	// JSON round trip, as a worker's report travels.
	raw, err := json.Marshal(tot)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Hists[HistE2E].Quantile(0.99) != tot.Hists[HistE2E].Quantile(0.99) || back.Counter(Sent) != 400 {
		t.Fatal("snapshot changed through JSON")
	}
}

func TestDiffAndPoint(t *testing.T) {
	prev := snap(10, 1e6)
	cur := Merge(prev, snap(5, 9e6, 9e6))
	iv := Diff(cur, prev)
	if iv.Counter(Connected) != 5 || iv.Counter(SentAll) != 60 || iv.Failures["refused"] != 1 || iv.Hists[HistE2E].Count != 2 {
		t.Fatalf("interval %+v", iv)
	}
	p := PointOf("relay", 3, 2, iv)
	if p.SentPerSec != 30 || p.P99 < 8.9 || p.P99 > 9.1 || p.Errors != 6 || p.T != 3 {
		t.Fatalf("point %+v", p)
	}
	if line := ProgressLine("relay", 3, cur, p); !strings.Contains(line, "30 msg/s") || !strings.Contains(line, "open 15") {
		t.Fatalf("progress %q", line)
	}
}

func TestTable(t *testing.T) {
	tot := snap(10, 1e6, 2e6)
	r := &Result{Scenario: "relay", Target: "127.0.0.1:7000", Transport: "ws", Workers: 1, WallSeconds: 3,
		Params: map[string]string{"pairs": "5"}, Total: tot, Summary: Summarize(tot, 100, 10),
		Server: &Server{PID: 7, RSSBefore: 1 << 20, RSSAfter: 2 << 20, RSSPerConn: 512},
		Bench:  Usage{UserSeconds: 1, SysSeconds: 0.5, CorePercent: 50}}
	var b bytes.Buffer
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pairs=5", "sent 100", "lost 1", "e2e", "512 B per connection", "refused 1", "eof 10", "50% of one core"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := WriteJSON(&b, r); err != nil || !json.Valid(b.Bytes()) {
		t.Fatalf("json: %v", err)
	}
}

func TestBytes(t *testing.T) {
	for v, want := range map[float64]string{512: "512 B", 1536: "1.5 KiB", 3 << 20: "3.0 MiB", -2048: "-2.0 KiB"} {
		if got := Bytes(v); got != want {
			t.Errorf("Bytes(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestHTML(t *testing.T) {
	var h hist.Histogram
	for v := int64(1); v < 5e6; v = v*11/10 + 1 {
		h.Record(v)
	}
	tot := Snapshot{Hists: map[string]hist.Snap{HistE2E: h.Snapshot(), HistConnect: h.Snapshot()}, Counters: map[string]int64{Sent: 3}}
	r := &Result{Scenario: "relay", Total: tot, Summary: Summarize(tot, 0, 0),
		Series: []Point{{T: 1, Open: 5, P50: 1, P99: 2, Max: 3, SentPerSec: 10}, {T: 2, Open: 5, P99: 2.5}}}
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<pre", "kefu-bench relay", "latency over time", "latency distribution", "p99.9", "echarts"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	labels, counts := coarse(h.Snapshot())
	var n int64
	for _, c := range counts {
		n += c
	}
	if n != h.Count() || len(labels) != len(counts) || len(labels) > 200 {
		t.Fatalf("coarse: %d bins, %d values of %d", len(labels), n, h.Count())
	}
}

func TestRatioCell(t *testing.T) {
	for _, tc := range []struct {
		v, base float64
		higher  bool
		want    string
	}{
		{1, 1, true, "1.00× (same)"},
		{0.9, 21.2, false, "0.04× (23.6× better)"},
		{2.95, 4740, false, "0.001× (1607× better)"},
		{13576, 9292, true, "1.46× (1.5× better)"},
		{204, 71.7, false, "2.85× (2.8× worse)"},
	} {
		if got := ratioCell(map[string]float64{"k": tc.v, "b": tc.base}, "k", "b", tc.higher); got != tc.want {
			t.Errorf("%v ÷ %v: %q, want %q", tc.v, tc.base, got, tc.want)
		}
	}
	if got := ratioCell(map[string]float64{"k": 1}, "k", "b", true); got != "—" {
		t.Errorf("no baseline: %q", got)
	}
}
