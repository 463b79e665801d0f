package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/server"
	"github.com/kefu-im/kefu/internal/token"
)

// The test binary doubles as the kefu binary when KEFU_TEST_MAIN is set,
// so the tests run the real main: flags, config, signals, drain, exit code.
func TestMain(m *testing.M) {
	if os.Getenv("KEFU_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func kefuCmd(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "KEFU_TEST_MAIN=1")
	return cmd
}

var listening = regexp.MustCompile(`gateway (\S+) .* http (\S+) `)

// TestServeAndDrainOnSIGTERM: the binary starts with a config laid over
// the embedded defaults, says where it listens, serves, and on SIGTERM
// drains and exits 0.
func TestServeAndDrainOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kefu.yaml")
	if err := os.WriteFile(cfg, []byte(`
http:
  addr: "127.0.0.1:0"
gateway:
  listeners:
    - addr: "127.0.0.1:0"
drain_timeout: 5s
log_format: json
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := kefuCmd(t, "--config", cfg, "--data", filepath.Join(dir, "data"), "--log-level", "debug")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no start line: %v; stderr:\n%s", err, stderr.String())
	}
	m := listening.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("start line %q", line)
	}
	gw := m[1]
	c, err := net.Dial("tcp", gw)
	if err != nil {
		t.Fatalf("gateway %s: %v", gw, err)
	}
	defer c.Close()
	if _, err := os.Stat(server.SecretPath(filepath.Join(dir, "data"), "demo")); err != nil {
		t.Fatalf("no generated secret: %v", err)
	}
	// The embedded visitor SDK is served on the HTTP side.
	resp, err := http.Get("http://" + m[2] + "/sdk/kefu.min.js")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || len(js) < 1000 {
		t.Fatalf("GET /sdk/kefu.min.js: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(js))
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("kefu did not exit after SIGTERM")
	}
	logs := stderr.String()
	for _, want := range []string{`"msg":"signal received, draining"`, `"msg":"kefu stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

// TestTokenCommand mints a token that verifies with the generated secret.
func TestTokenCommand(t *testing.T) {
	dir := t.TempDir()
	cmd := kefuCmd(t, "token", "--data", dir, "--site", "demo", "--role", "agent", "--user", "alice")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kefu token: %v", err)
	}
	secret, err := os.ReadFile(server.SecretPath(dir, "demo"))
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(out))
	if err := token.Verify(bytes.TrimSpace(secret), tok, "demo", "agent", "alice", time.Now()); err != nil {
		t.Fatalf("minted token does not verify: %v", err)
	}
	// An MQTT device's password (user name demo/dev-1).
	out, err = kefuCmd(t, "token", "--data", dir, "--site", "demo", "--role", "device", "--user", "dev-1").Output()
	if err != nil {
		t.Fatalf("kefu token --role device: %v", err)
	}
	if err := token.Verify(bytes.TrimSpace(secret), strings.TrimSpace(string(out)), "demo", "device", "dev-1", time.Now()); err != nil {
		t.Fatalf("minted device token does not verify: %v", err)
	}
	for _, bad := range [][]string{{"token", "--data", dir}, {"token", "--data", dir, "--user", "x", "--role", "root"}, {"token", "--data", dir, "--user", "x", "--site", "nope"}} {
		if err := kefuCmd(t, bad...).Run(); err == nil {
			t.Errorf("kefu %v succeeded", bad)
		}
	}
}
