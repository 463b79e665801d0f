package scenario

import (
	"testing"
	"time"
)

// FuzzParseCMID: whatever parseCMID accepts, appendCMID writes back the
// same way (leading zeros aside), and it never panics.
func FuzzParseCMID(f *testing.F) {
	f.Add([]byte("3-12-345"))
	f.Add([]byte("0-0-0"))
	f.Add([]byte("1-18446744073709551615-9223372036854775807"))
	f.Fuzz(func(t *testing.T, in []byte) {
		k, d, ok := parseCMID(in)
		if !ok {
			return
		}
		k2, d2, ok2 := parseCMID(appendCMID(nil, 5, k, d))
		if !ok2 || k2 != k || d2 != d || d < 0 || d > time.Duration(1<<63-1) {
			t.Fatalf("%q → %d %d → %d %d %v", in, k, d, k2, d2, ok2)
		}
	})
}
