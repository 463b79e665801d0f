package bench

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/kefu-im/kefu/bench/report"
)

// compareMain writes the markdown comparison of the results that
// scripts/bench-compare.sh collected.
func compareMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu-bench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory of TARGET_CASE.json results (kefu-bench --json output)")
	out := fs.String("out", "", "markdown file to write (default stdout)")
	cmds := fs.String("commands", "", "file listing the commands that produced the results")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "kefu-bench compare: --dir is required")
		return 2
	}
	res, err := report.LoadComparison(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "kefu-bench compare:", err)
		return 1
	}
	meta := report.CompareMeta{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Machine: machine()}
	if *cmds != "" {
		b, err := os.ReadFile(*cmds)
		if err != nil {
			fmt.Fprintln(stderr, "kefu-bench compare:", err)
			return 1
		}
		meta.Commands = strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	}
	var w io.Writer = stdout
	var f *os.File
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			fmt.Fprintln(stderr, "kefu-bench compare:", err)
			return 1
		}
		w = f
	}
	err = report.WriteComparison(w, res, meta)
	if f != nil {
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		fmt.Fprintln(stderr, "kefu-bench compare:", err)
		return 1
	}
	return 0
}

// machine describes this machine in a few lines.
func machine() []string {
	var lines []string
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				lines = append(lines, fmt.Sprintf("CPU: %s, %d logical CPUs", strings.TrimSpace(v), runtime.NumCPU()))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if l, _, ok := strings.Cut(string(b), "\n"); ok {
			lines = append(lines, "Memory: "+strings.Join(strings.Fields(strings.TrimPrefix(l, "MemTotal:")), " "))
		}
	}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		lines = append(lines, "Kernel: "+utsString(u.Sysname[:])+" "+utsString(u.Release[:]))
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		lines = append(lines, fmt.Sprintf("Open files per process: %d", rl.Max))
	}
	lines = append(lines, "Go: "+runtime.Version())
	return lines
}

func utsString(b []int8) string {
	var s strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		s.WriteByte(byte(c))
	}
	return s.String()
}
