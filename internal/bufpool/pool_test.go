package bufpool

import (
	"testing"
)

func TestClasses(t *testing.T) {
	for _, tc := range []struct {
		size, getCap int
	}{
		{-1, 64}, {0, 64}, {1, 64}, {64, 64}, {65, 128}, {128, 128}, {129, 256},
		{1000, 1024}, {4096, 4096}, {4097, 8192}, {MaxSize - 1, MaxSize}, {MaxSize, MaxSize},
		{MaxSize + 1, MaxSize + 1}, {3 << 20, 3 << 20},
	} {
		var p Pool
		b := p.Get(tc.size)
		if len(*b) != 0 || cap(*b) != tc.getCap {
			t.Errorf("Get(%d): len %d cap %d, want len 0 cap %d", tc.size, len(*b), cap(*b), tc.getCap)
		}
	}
	for _, tc := range []struct{ n, class int }{
		{64, 0}, {65, 0}, {127, 0}, {128, 1}, {200, 1}, {256, 2}, {MaxSize - 1, classes - 2}, {MaxSize, classes - 1},
	} {
		if got := putClass(tc.n); got != tc.class {
			t.Errorf("putClass(%d) = %d, want %d", tc.n, got, tc.class)
		}
	}
}

func TestPutResetsAndReuses(t *testing.T) {
	var p Pool
	b := p.Get(100)
	*b = append(*b, "hello"...)
	p.Put(b)
	// sync.Pool may drop items at any GC, so reuse is likely, not certain;
	// whatever comes back must be empty and big enough.
	for range 10 {
		c := p.Get(100)
		if len(*c) != 0 || cap(*c) < 100 {
			t.Fatalf("Get after Put: len %d cap %d", len(*c), cap(*c))
		}
		p.Put(c)
	}
}

func TestGrownBufferGoesToCoveredClass(t *testing.T) {
	var p Pool
	b := p.Get(64)
	*b = append(*b, make([]byte, 300)...) // cap now > 256, < 512
	if cap(*b) >= 512 {
		t.Skipf("append grew to %d; test needs 256 <= cap < 512", cap(*b))
	}
	p.Put(b)
	// The buffer sits in class 256 (cap >= 256): a Get(257) must never get it.
	for range 100 {
		c := p.Get(257)
		if cap(*c) < 257 {
			t.Fatalf("Get(257) returned cap %d", cap(*c))
		}
	}
}

func TestDropped(t *testing.T) {
	var p Pool
	p.Put(nil)
	small := make([]byte, 10, 32)
	p.Put(&small)
	if len(small) != 10 {
		t.Error("Put modified a buffer it dropped")
	}
	big := make([]byte, 5, MaxSize+1)
	p.Put(&big)
	if len(big) != 5 {
		t.Error("Put modified an oversize buffer it dropped")
	}
	for c := range p.classes {
		if v := p.classes[c].Get(); v != nil {
			t.Errorf("class %d holds a dropped buffer of cap %d", c, cap(*v.(*[]byte)))
		}
	}
}

func TestNoAllocsAfterWarmUp(t *testing.T) {
	var p Pool
	for _, size := range []int{1, 64, 100, 1500, 16 << 10, MaxSize} {
		p.Put(p.Get(size)) // warm up
		a := testing.AllocsPerRun(1000, func() {
			b := p.Get(size)
			*b = append(*b, 'x')
			p.Put(b)
		})
		if a != 0 {
			t.Errorf("Get(%d)/Put: AllocsPerRun = %v, want 0", size, a)
		}
	}
}

func TestConcurrent(t *testing.T) {
	var p Pool
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 2000 {
				size := (i*37 + g*101) % (64 << 10)
				b := p.Get(size)
				if len(*b) != 0 || cap(*b) < size {
					t.Errorf("Get(%d): len %d cap %d", size, len(*b), cap(*b))
					return
				}
				for j := range min(size, 16) {
					*b = append(*b, byte(g+j))
				}
				for j, c := range *b {
					if c != byte(g+j) {
						t.Errorf("buffer shared between goroutines")
						return
					}
				}
				p.Put(b)
			}
		}()
	}
	for range 4 {
		<-done
	}
}
