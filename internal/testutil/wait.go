package testutil

import (
	"testing"
	"time"
)

// WaitFor polls cond until it returns true and fails the test (t.Fatalf)
// when timeout passes first. Polling starts at 1 ms and backs off to 20 ms,
// so a condition that becomes true quickly is seen quickly. cond runs on the
// caller's goroutine and must do its own synchronization.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
}
