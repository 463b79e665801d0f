package bufpool

import (
	"strconv"
	"testing"
)

var benchSizes = []int{64, 1500, 16 << 10, 256 << 10}

func BenchmarkPool(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			var p Pool
			p.Put(p.Get(size))
			b.ReportAllocs()
			for b.Loop() {
				buf := p.Get(size)
				*buf = append(*buf, 1)
				p.Put(buf)
			}
		})
	}
}

var sink []byte

func BenchmarkMake(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf := make([]byte, 0, size)
				sink = append(buf, 1)
			}
		})
	}
}

func BenchmarkPoolParallel(b *testing.B) {
	var p Pool
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			buf := p.Get(1500)
			*buf = append(*buf, 1)
			p.Put(buf)
		}
	})
}
