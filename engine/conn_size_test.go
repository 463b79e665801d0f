package engine

import (
	"testing"
	"unsafe"
)

// TestConnSize keeps the per-connection state in the 160-byte allocation
// size class: the MQTT client and split-packet pointers fit in it, and a
// field more must be weighed against every idle connection.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 160 {
		t.Fatalf("conn is %d bytes, want at most 160", n)
	}
}
