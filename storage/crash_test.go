//go:build unix

package storage

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of the crash child: the test binary re-executed by
// TestCrashRecovery, which runs crashChild instead of the tests.
const (
	crashEnvMode = "KEFU_STORAGE_CRASH_MODE" // exit | sigkill | parentkill | asynckill
	crashEnvDir  = "KEFU_STORAGE_CRASH_DIR"
	crashEnvN    = "KEFU_STORAGE_CRASH_N"
	crashConv    = "crash-conversation"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(crashEnvMode); mode != "" {
		os.Exit(crashChild(mode, os.Getenv(crashEnvDir), os.Getenv(crashEnvN)))
	}
	os.Exit(m.Run())
}

// crashChild commits messages 1..n with DurabilitySync in batches of 1..5,
// printing "acked <seq>" after each Commit returns, and then ends without
// Close: os.Exit(0), SIGKILL to itself, or (parentkill) it keeps committing
// until the parent kills it. asynckill commits with DurabilityAsync, waits
// three SyncIntervals and kills itself: the periodic sync must have saved
// everything.
func crashChild(mode, dir, nStr string) int {
	n, err := strconv.ParseUint(nStr, 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	d := DurabilitySync
	if mode == "asynckill" {
		d = DurabilityAsync
	}
	s, err := Open(Options{Dir: dir, Durability: d})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	b := s.NewBatch()
	seq := uint64(0)
	for k := 0; mode == "parentkill" || seq < n; k++ {
		for range 1 + k%5 {
			seq++
			if err := b.PutMessage(crashConv, seq, msgValue(crashConv, seq)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
			if err := b.PutDedup(crashConv, "cm-"+strconv.FormatUint(seq, 10), seq); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
		}
		if err := b.Commit(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Fprintf(os.Stdout, "acked %d\n", seq) // unbuffered: one write per line
	}
	switch mode {
	case "exit":
		return 0 // abandoned: no Close, no Flush
	case "asynckill":
		time.Sleep(3 * DefaultSyncInterval)
		fallthrough
	case "sigkill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	fmt.Fprintln(os.Stderr, "unknown mode", mode)
	return 2
}

// TestCrashRecovery abandons a store in a child process right after (or in
// the middle of) sync commits and checks that every acknowledged message is
// there after reopening, with no gaps. A process crash keeps the page cache,
// so this proves that acknowledged means "in the WAL and replayed at Open";
// fsync against power loss is Pebble's part (pebble.Sync) and cannot be
// shown by a test.
func TestCrashRecovery(t *testing.T) {
	const n = 300
	for _, mode := range []string{"exit", "sigkill", "parentkill", "asynckill"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(),
				crashEnvMode+"="+mode, crashEnvDir+"="+dir, crashEnvN+"="+strconv.Itoa(n))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			must(t, err)
			must(t, cmd.Start())
			acked := uint64(0)
			killed := false
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				v, ok := strings.CutPrefix(sc.Text(), "acked ")
				if !ok {
					continue
				}
				seq, err := strconv.ParseUint(v, 10, 64)
				must(t, err)
				acked = seq
				if mode == "parentkill" && acked >= n/2 && !killed {
					must(t, cmd.Process.Kill())
					killed = true
				}
			}
			err = cmd.Wait()
			switch mode {
			case "exit":
				if err != nil {
					t.Fatalf("child: %v\n%s", err, stderr.String())
				}
			default:
				ee, ok := err.(*exec.ExitError)
				if !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("child did not die by SIGKILL: %v\n%s", err, stderr.String())
				}
			}
			if mode != "parentkill" && acked != n {
				t.Fatalf("child acked %d of %d\n%s", acked, n, stderr.String())
			}
			if acked == 0 {
				t.Fatalf("child acked nothing\n%s", stderr.String())
			}

			s := openTest(t, dir, DurabilitySync)
			defer s.Close()
			last, err := s.LastSeq(crashConv)
			must(t, err)
			if last < acked || (mode != "parentkill" && last != acked) {
				t.Fatalf("LastSeq %d after %d acked", last, acked)
			}
			want := uint64(1)
			_, err = s.History(crashConv, 0, int(last)+1, func(seq uint64, v []byte) error {
				if seq != want || !bytes.Equal(v, msgValue(crashConv, seq)) {
					return fmt.Errorf("got seq %d value %q, want seq %d", seq, v, want)
				}
				want++
				return nil
			})
			must(t, err)
			if want != last+1 {
				t.Fatalf("history ended at %d, LastSeq %d", want-1, last)
			}
			for _, seq := range []uint64{1, acked / 2, acked} {
				if got, ok, err := s.Dedup(crashConv, "cm-"+strconv.FormatUint(seq, 10)); err != nil || !ok || got != seq {
					t.Fatalf("Dedup(cm-%d) = %d %v %v", seq, got, ok, err)
				}
			}
			t.Logf("%s: %d acked, %d recovered", mode, acked, last)
		})
	}
}
