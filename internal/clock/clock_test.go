package clock

import (
	"testing"
	"testing/synctest"
	"time"
)

func TestDefaultResolution(t *testing.T) {
	for _, r := range []time.Duration{0, -time.Second} {
		if got := NewCoarse(r).Resolution(); got != DefaultResolution {
			t.Errorf("NewCoarse(%v).Resolution() = %v, want %v", r, got, DefaultResolution)
		}
	}
	if got := NewCoarse(time.Second).Resolution(); got != time.Second {
		t.Errorf("Resolution() = %v, want 1s", got)
	}
}

func TestCoarseFollowsTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const res = 10 * time.Millisecond
		c := NewCoarse(res)
		if got, want := c.Now(), time.Now().UnixNano(); got != want {
			t.Fatalf("Now() = %d right after NewCoarse, want %d", got, want)
		}
		time.Sleep(3 * res)
		if got, want := c.Now(), time.Now().Add(-3*res).UnixNano(); got != want {
			t.Fatalf("unstarted clock moved: %d, want %d", got, want)
		}

		c.Start()
		defer c.Stop()
		if got, want := c.Now(), time.Now().UnixNano(); got != want {
			t.Fatalf("Start did not refresh: %d, want %d", got, want)
		}
		for range 100 {
			time.Sleep(res / 3)
			synctest.Wait() // let the ticker goroutine store
			real := time.Now().UnixNano()
			got := c.Now()
			if got > real || real-got >= int64(res) {
				t.Fatalf("Now() = %d, real %d: lag %v outside [0, %v)", got, real, time.Duration(real-got), res)
			}
			if nt := c.NowTime(); nt.UnixNano() != got {
				t.Fatalf("NowTime() = %v, Now() = %d", nt, got)
			}
		}
	})
}

func TestStartStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const res = time.Millisecond
		c := NewCoarse(res)
		c.Stop() // stopping a stopped clock is fine
		c.Start()
		c.Start() // second Start is a no-op, not a second goroutine
		time.Sleep(5 * res)
		synctest.Wait()
		c.Stop()
		frozen := c.Now()
		time.Sleep(5 * res)
		if c.Now() != frozen {
			t.Fatal("stopped clock kept moving")
		}
		c.Start()
		if c.Now() == frozen {
			t.Fatal("restart did not refresh the clock")
		}
		c.Stop()
		c.Stop()
		// synctest.Test reports a deadlock if a ticker goroutine outlives it.
	})
}

func BenchmarkCoarseNow(b *testing.B) {
	c := NewCoarse(time.Millisecond)
	c.Start()
	defer c.Stop()
	var sink int64
	b.ReportAllocs()
	for b.Loop() {
		sink += c.Now()
	}
	_ = sink
}

func BenchmarkTimeNow(b *testing.B) {
	var sink int64
	b.ReportAllocs()
	for b.Loop() {
		sink += time.Now().UnixNano()
	}
	_ = sink
}

func BenchmarkCoarseNowParallel(b *testing.B) {
	c := NewCoarse(time.Millisecond)
	c.Start()
	defer c.Stop()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var sink int64
		for pb.Next() {
			sink += c.Now()
		}
		_ = sink
	})
}
