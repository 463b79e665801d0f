package web

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The web tests need Node.js with the packages of package-lock.json, and
// the browser tests need Debian's Chromium. They fail, never skip, when
// these are missing: `bash web/deps.sh` (run by `make test`) installs them.
const depsHint = "run `bash web/deps.sh` (installs nodejs, npm and chromium with apt, then `npm ci` in web/)"

// chromiumPath is where Debian's chromium package puts the browser;
// KEFU_CHROMIUM overrides it.
func chromiumPath() string {
	if p := os.Getenv("KEFU_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// needNode checks node and npm and runs `npm ci` when node_modules is
// missing or older than package-lock.json. It returns the web directory.
func needNode(t testing.TB) string {
	t.Helper()
	for _, bin := range []string{"node", "npm"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not found in PATH: the web tests need Node.js and npm; %s", bin, depsHint)
		}
	}
	out, err := exec.Command("node", "-p", "process.versions.node").Output()
	if err != nil {
		t.Fatalf("node -p process.versions.node: %v", err)
	}
	if major, _, _ := strings.Cut(strings.TrimSpace(string(out)), "."); atoi(major) < 20 {
		t.Fatalf("node %s is too old: playwright-core needs Node.js >= 20; %s", bytes.TrimSpace(out), depsHint)
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	if !npmFresh(dir) {
		t.Logf("web: npm ci (node_modules missing or older than package-lock.json)")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s\n%s", dir, err, out, depsHint)
		}
		if !npmFresh(dir) {
			t.Fatalf("npm ci did not install the packages of package-lock.json; %s", depsHint)
		}
	}
	return dir
}

// npmFresh reports whether node_modules holds what package-lock.json asks
// for: npm writes node_modules/.package-lock.json on every install.
func npmFresh(dir string) bool {
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return false
	}
	hidden, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err != nil || hidden.ModTime().Before(lock.ModTime()) {
		return false
	}
	for _, p := range []string{"esbuild/package.json", "typescript/bin/tsc", "playwright-core/package.json"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", p)); err != nil {
			return false
		}
	}
	return true
}

// needChromium checks that the browser is installed and returns its path.
func needChromium(t testing.TB) string {
	t.Helper()
	p := chromiumPath()
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("chromium not found at %s (set KEFU_CHROMIUM to use another): the browser tests need it; %s", p, depsHint)
	}
	return p
}

// runNode runs node with args in dir and fails the test with its output on
// error.
func runNode(t testing.TB, dir string, timeout time.Duration, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %v: %v\n%s%s", args, err, out, stderr.Bytes())
	}
	return out
}

// atoi is strconv.Atoi with 0 for anything not a number.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
