//go:build unix

package web

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// driver runs test/driver.mjs: a headless Chromium driven by playwright-core,
// one JSON command per line on its stdin, one JSON answer per line on its
// stdout. Only the test goroutine calls its methods.
type driver struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan []byte
	stderr *syncBuffer
	n      int
}

// syncBuffer collects the driver's stderr, written by exec's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startDriver(t *testing.T, dir, chromium string) *driver {
	t.Helper()
	cmd := exec.Command("node", "test/driver.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KEFU_CHROMIUM="+chromium)
	// Its own process group, so that the browser it starts goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &driver{t: t, cmd: cmd, in: in, lines: make(chan []byte, 16), stderr: &syncBuffer{}}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node test/driver.mjs: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			d.lines <- bytes.Clone(sc.Bytes())
		}
		close(d.lines)
	}()
	t.Cleanup(d.stop)
	var hello struct {
		Ready   bool   `json:"ready"`
		Browser string `json:"browser"`
	}
	if err := json.Unmarshal(d.line(30*time.Second), &hello); err != nil || !hello.Ready {
		t.Fatalf("driver did not start: %v\n%s", err, d.stderr)
	}
	t.Logf("chromium %s via playwright-core", hello.Browser)
	return d
}

// stop ends the driver: end of stdin closes the browser; a driver that
// does not exit in time is killed with its process group.
func (d *driver) stop() {
	d.in.Close()
	done := make(chan struct{})
	go func() {
		d.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func (d *driver) line(timeout time.Duration) []byte {
	d.t.Helper()
	select {
	case l, ok := <-d.lines:
		if !ok {
			d.t.Fatalf("driver exited\n%s", d.stderr)
		}
		return l
	case <-time.After(timeout):
		d.t.Fatalf("driver silent for %v\n%s", timeout, d.stderr)
	}
	return nil
}

// do sends one command and returns its value; an error fails the test.
func (d *driver) do(op, page string, args map[string]any) json.RawMessage {
	d.t.Helper()
	d.n++
	c := map[string]any{"id": d.n, "op": op, "page": page}
	for k, v := range args {
		c[k] = v
	}
	b, _ := json.Marshal(c)
	if _, err := d.in.Write(append(b, '\n')); err != nil {
		d.t.Fatalf("driver: %v\n%s", err, d.stderr)
	}
	timeout := 20 * time.Second
	if ms, ok := args["ms"].(int); ok {
		timeout += time.Duration(ms) * time.Millisecond
	}
	var r struct {
		ID    int             `json:"id"`
		OK    bool            `json:"ok"`
		Value json.RawMessage `json:"value"`
		Error string          `json:"error"`
	}
	if err := json.Unmarshal(d.line(timeout), &r); err != nil || r.ID != d.n {
		d.t.Fatalf("driver answer %+v: %v", r, err)
	}
	if !r.OK {
		d.t.Fatalf("%s %s: %s", op, strings.TrimSpace(fmt.Sprint(args["expr"], args["url"])), r.Error)
	}
	return r.Value
}

// open loads url in a new browser context (fresh storage) named page.
func (d *driver) open(page, url string) { d.do("page", page, map[string]any{"url": url}) }

// reload navigates page to url keeping its storage.
func (d *driver) reload(page, url string) { d.do("goto", page, map[string]any{"url": url}) }

// eval evaluates a JS expression in page (promises are awaited) into v.
func (d *driver) eval(page, expr string, v any) {
	d.t.Helper()
	raw := d.do("eval", page, map[string]any{"expr": expr})
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			d.t.Fatalf("eval %s: %s: %v", expr, raw, err)
		}
	}
}

// wait waits until the JS expression is truthy in page.
func (d *driver) wait(page, expr string) {
	d.t.Helper()
	d.do("wait", page, map[string]any{"expr": expr, "ms": 10000})
}

func (d *driver) shot(page, path string) {
	d.t.Helper()
	d.do("shot", page, map[string]any{"path": path})
}

func (d *driver) logs(page string) []string {
	d.t.Helper()
	var l []string
	if err := json.Unmarshal(d.do("logs", page, nil), &l); err != nil {
		d.t.Fatal(err)
	}
	return l
}
