package testutil

import (
	"bytes"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// LeakGrace is how long CheckGoroutineLeaks waits for goroutines that are
// still winding down (a reader seeing its socket close, a timer callback)
// before it calls them leaks.
const LeakGrace = 10 * time.Second

// ignoredStacks are goroutines that belong to the test binary, not to the
// code under test: other tests (parallel ones run in testing.tRunner), the
// test main, signal handling.
var ignoredStacks = []string{
	"testing.tRunner(",
	"testing.(*M).",
	"testing.runTests(",
	"testing.runFuzzing(",
	"testing.(*F).",
	"os/signal.",
	"runtime.ensureSigM",
}

// CheckGoroutineLeaks records the goroutines alive now and, at the end of
// the test (t.Cleanup), fails the test with the stacks of every goroutine
// that started since and is still running after LeakGrace. Call it first in
// the test, so that its cleanup runs after the others (cleanups run last
// registered, first run). A stack that contains any of ignore (a function
// name, say) is not counted. Goroutines of tests running in parallel are
// ignored only when they are in testing.tRunner; prefer it in tests that do
// not call t.Parallel.
func CheckGoroutineLeaks(t testing.TB, ignore ...string) {
	t.Helper()
	before := goroutines()
	t.Cleanup(func() {
		deadline := time.Now().Add(LeakGrace)
		pause := time.Millisecond
		for {
			leaked := newGoroutines(before, ignore)
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d goroutine(s) leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(pause)
			pause = min(2*pause, 50*time.Millisecond)
		}
	})
}

// newGoroutines returns the stacks of goroutines not in before, minus the
// current one and the ignored ones.
func newGoroutines(before map[uint64]string, ignore []string) []string {
	self := currentID()
	var out []string
	for id, stack := range goroutines() {
		if _, ok := before[id]; ok || id == self {
			continue
		}
		if containsAny(stack, ignoredStacks) || containsAny(stack, ignore) {
			continue
		}
		out = append(out, stack)
	}
	slices.Sort(out)
	return out
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// goroutines returns the stack of every goroutine by id.
func goroutines() map[uint64]string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := make(map[uint64]string)
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if id, ok := parseID(g); ok {
			out[id] = string(g)
		}
	}
	return out
}

// currentID returns the id of the calling goroutine.
func currentID() uint64 {
	var buf [64]byte
	id, _ := parseID(buf[:runtime.Stack(buf[:], false)])
	return id
}

// parseID reads the id from a stack that starts "goroutine 12 [state]:".
func parseID(stack []byte) (uint64, bool) {
	rest, ok := bytes.CutPrefix(stack, []byte("goroutine "))
	if !ok {
		return 0, false
	}
	sp := bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return 0, false
	}
	id, err := strconv.ParseUint(string(rest[:sp]), 10, 64)
	return id, err == nil
}
