//go:build linux

package storage

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkRawFdatasync is the floor under BenchmarkCommitSync: one 256-byte
// write plus fdatasync on the same file system, without Pebble. "append"
// grows the file (the size change is journaled); "overwrite" rewrites the
// first block, like a recycled, preallocated WAL file.
func BenchmarkRawFdatasync(b *testing.B) {
	for _, mode := range []string{"append", "overwrite"} {
		b.Run(mode, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
			must(b, err)
			defer f.Close()
			buf := make([]byte, benchValueLen)
			b.ReportAllocs()
			for b.Loop() {
				if mode == "append" {
					_, err = f.Write(buf)
				} else {
					_, err = f.WriteAt(buf, 0)
				}
				must(b, err)
				must(b, syscall.Fdatasync(int(f.Fd())))
			}
		})
	}
}
