package report

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"math/bits"
	"os"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/components"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/kefu-im/kefu/bench/hist"
)

// WriteHTMLFile writes WriteHTML's page to path.
func WriteHTMLFile(path string, r *Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(WriteHTML(f, r), f.Close())
}

// WriteHTML writes a page with the result table and charts (go-echarts;
// the page loads the ECharts script from its CDN): latency over time,
// connections and rates over time, the latency distribution and the
// latency by percentile.
func WriteHTML(w io.Writer, r *Result) error {
	page := components.NewPage()
	page.SetPageTitle("kefu-bench " + r.Scenario)
	page.AddCharts(latencyOverTime(r), activityOverTime(r), distribution(r), percentileCurve(r))
	var buf bytes.Buffer
	if err := page.Render(&buf); err != nil {
		return err
	}
	var tbl bytes.Buffer
	if err := WriteTable(&tbl, r); err != nil {
		return err
	}
	head := "<body>\n<pre style=\"margin:16px auto;max-width:1100px;font-size:13px\">" + html.EscapeString(tbl.String()) + "</pre>\n"
	out := bytes.Replace(buf.Bytes(), []byte("<body>"), []byte(head), 1)
	_, err := w.Write(out)
	return err
}

func baseOpts(title, yName string) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{Width: "1100px", Height: "420px"}),
		charts.WithTitleOpts(opts.Title{Title: title}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "30px"}),
		charts.WithYAxisOpts(opts.YAxis{Name: yName}),
		charts.WithDataZoomOpts(opts.DataZoom{Type: "inside"}),
	}
}

func seconds(r *Result) []string {
	xs := make([]string, len(r.Series))
	for i, p := range r.Series {
		xs[i] = strconv.FormatFloat(p.T, 'f', 0, 64) + "s"
	}
	return xs
}

func lineData(r *Result, f func(Point) float64) []opts.LineData {
	out := make([]opts.LineData, len(r.Series))
	for i, p := range r.Series {
		out[i] = opts.LineData{Value: f(p)}
	}
	return out
}

func latencyOverTime(r *Result) *charts.Line {
	l := charts.NewLine()
	name := MainHist(r.Scenario)
	l.SetGlobalOptions(baseOpts(name+" latency over time (each second)", "ms")...)
	l.SetXAxis(seconds(r)).
		AddSeries("p50", lineData(r, func(p Point) float64 { return p.P50 })).
		AddSeries("p99", lineData(r, func(p Point) float64 { return p.P99 })).
		AddSeries("max", lineData(r, func(p Point) float64 { return p.Max }))
	return l
}

func activityOverTime(r *Result) *charts.Line {
	l := charts.NewLine()
	l.SetGlobalOptions(baseOpts("connections and rates over time", "")...)
	l.SetXAxis(seconds(r)).AddSeries("open connections", lineData(r, func(p Point) float64 { return float64(p.Open) }))
	if HasMessages(r.Scenario) {
		l.AddSeries("sent/s", lineData(r, func(p Point) float64 { return p.SentPerSec })).
			AddSeries("delivered/s", lineData(r, func(p Point) float64 { return p.DeliveredPerSec }))
	} else {
		l.AddSeries("welcomed/s", lineData(r, func(p Point) float64 { return p.ConnectsPerSec }))
	}
	l.AddSeries("errors", lineData(r, func(p Point) float64 { return float64(p.Errors) }))
	return l
}

// coarse regroups a histogram's buckets into 8 per power of two, for a
// readable bar chart: bucket upper bounds (ms) and counts.
func coarse(s hist.Snap) (labels []string, counts []int64) {
	const keep = 4 // significant bits kept: 2^(keep-1) = 8 bins per octave
	var lastKey int64 = -1
	for _, b := range s.Buckets() {
		key := b.Low
		if n := bits.Len64(uint64(b.Low)); n > keep {
			shift := n - keep
			key = b.Low >> shift << shift
		}
		if key != lastKey {
			hi := key + 1
			if n := bits.Len64(uint64(key)); n > keep {
				hi = key + 1<<(n-keep)
			}
			labels = append(labels, strconv.FormatFloat(float64(hi)/1e6, 'g', 3, 64))
			counts = append(counts, 0)
			lastKey = key
		}
		counts[len(counts)-1] += b.Count
	}
	return labels, counts
}

func distribution(r *Result) *charts.Bar {
	b := charts.NewBar()
	name := MainHist(r.Scenario)
	g := baseOpts(name+" latency distribution (whole run)", "count")
	g = append(g, charts.WithXAxisOpts(opts.XAxis{Name: "≤ ms"}))
	b.SetGlobalOptions(g...)
	labels, counts := coarse(r.Total.Hists[name])
	data := make([]opts.BarData, len(counts))
	for i, c := range counts {
		data[i] = opts.BarData{Value: c}
	}
	b.SetXAxis(labels).AddSeries(name, data)
	return b
}

var curveQuantiles = []float64{0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1}

func percentileCurve(r *Result) *charts.Line {
	l := charts.NewLine()
	l.SetGlobalOptions(baseOpts("latency by percentile (whole run)", "ms")...)
	xs := make([]string, len(curveQuantiles))
	for i, q := range curveQuantiles {
		xs[i] = "p" + strconv.FormatFloat(q*100, 'g', 6, 64)
		if q == 1 {
			xs[i] = "max"
		}
	}
	l.SetXAxis(xs)
	for _, name := range histOrder {
		s, ok := r.Total.Hists[name]
		if !ok || s.Count == 0 {
			continue
		}
		data := make([]opts.LineData, len(curveQuantiles))
		for i, q := range curveQuantiles {
			data[i] = opts.LineData{Value: fmt.Sprintf("%.3f", float64(s.Quantile(q))/1e6)}
		}
		l.AddSeries(name, data)
	}
	return l
}
