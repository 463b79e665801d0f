package testutil

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/token"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed   atomic.Bool
	msg      atomic.Value
	cleanups []func()
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed.Store(true)
	r.msg.Store(format)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed.Store(true)
	r.msg.Store(format)
	panic(r)
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestWaitFor(t *testing.T) {
	var n atomic.Int32
	go func() {
		time.Sleep(20 * time.Millisecond)
		n.Store(1)
	}()
	WaitFor(t, time.Second, func() bool { return n.Load() == 1 })

	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != r {
				t.Fatalf("recovered %v, want the recorder's Fatalf", p)
			}
		}()
		WaitFor(r, 30*time.Millisecond, func() bool { return false })
	}()
	if !r.failed.Load() {
		t.Fatal("WaitFor did not fail on timeout")
	}
}

func TestCheckGoroutineLeaksClean(t *testing.T) {
	r := &recorder{TB: t}
	CheckGoroutineLeaks(r)
	done := make(chan struct{})
	go func() { <-done }()
	close(done) // the goroutine ends within the grace period
	r.runCleanups()
	if r.failed.Load() {
		t.Fatalf("reported a leak for a goroutine that ended: %v", r.msg.Load())
	}
}

func TestCheckGoroutineLeaksFindsLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("waits LeakGrace")
	}
	r := &recorder{TB: t}
	CheckGoroutineLeaks(r)
	stop := make(chan struct{})
	defer close(stop)
	go leakyGoroutine(stop)
	r.runCleanups()
	if !r.failed.Load() {
		t.Fatal("did not report a goroutine that kept running")
	}

	r2 := &recorder{TB: t}
	CheckGoroutineLeaks(r2, "leakyGoroutine")
	go leakyGoroutine(stop)
	r2.runCleanups()
	if r2.failed.Load() {
		t.Fatal("reported a goroutine matching an ignore pattern")
	}
}

func leakyGoroutine(stop chan struct{}) { <-stop }

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		id   uint64
		want bool
	}{
		{"goroutine 12 [running]:\nmain.main()", 12, true},
		{"goroutine 7 [chan receive, 2 minutes]:", 7, true},
		{"goroutine x [running]:", 0, false},
		{"goroutine 12", 0, false},
		{"", 0, false},
	} {
		id, ok := parseID([]byte(tc.in))
		if id != tc.id || ok != tc.want {
			t.Errorf("parseID(%q) = %d, %v; want %d, %v", tc.in, id, ok, tc.id, tc.want)
		}
	}
	if currentID() == 0 {
		t.Error("currentID returned 0")
	}
}

func TestMintToken(t *testing.T) {
	const secret = "test-secret-0123456789abcdef"
	tok := MintToken(t, secret, "demo", "agent", "alice")
	if err := token.Verify([]byte(secret), tok, "demo", "agent", "alice", time.Now()); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := token.Verify([]byte(secret), tok, "demo", "visitor", "alice", time.Now()); err == nil {
		t.Fatal("token verified for another role")
	}
	r := &recorder{TB: t}
	func() {
		defer func() { recover() }()
		MintToken(r, secret, "demo", "admin", "alice")
	}()
	if !r.failed.Load() || !strings.Contains(r.msg.Load().(string), "role") {
		t.Fatal("MintToken accepted an unknown role")
	}
}
