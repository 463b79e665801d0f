package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/storage"
)

var printedPassword = regexp.MustCompile(`(?m)^password: (\S+)$`)

// TestAdminCreateThenLogin runs the real binary: `admin create` makes the
// site and an admin and prints a one-time password, which then logs in
// through the accounts package; `admin passwd` replaces it; `admin list`
// shows the agent; a data directory held open is refused clearly.
func TestAdminCreateThenLogin(t *testing.T) {
	dir := t.TempDir()
	out, err := kefuCmd(t, "admin", "create", "--data", dir, "--site", "shop", "--email", "Boss@Shop.example", "--name", "Boss").CombinedOutput()
	if err != nil {
		t.Fatalf("admin create: %v\n%s", err, out)
	}
	m := printedPassword.FindSubmatch(out)
	if m == nil || !strings.Contains(string(out), "created site shop") {
		t.Fatalf("admin create output:\n%s", out)
	}
	pw := string(m[1])

	out2, err := kefuCmd(t, "admin", "create", "--data", dir, "--site", "shop", "--email", "boss@shop.example").CombinedOutput()
	if err == nil || !strings.Contains(string(out2), "email already used") {
		t.Fatalf("duplicate admin create: %v\n%s", err, out2)
	}
	out3, err := kefuCmd(t, "admin", "list", "--data", dir, "--site", "shop").CombinedOutput()
	if err != nil || !strings.Contains(string(out3), "admin\tBoss@Shop.example") {
		t.Fatalf("admin list: %v\n%s", err, out3)
	}

	st, err := storage.Open(storage.Options{Dir: filepath.Join(dir, "pebble")})
	if err != nil {
		t.Fatal(err)
	}
	// While the store is held open (as by a running server), admin refuses.
	busy, err := kefuCmd(t, "admin", "list", "--data", dir, "--site", "shop").CombinedOutput()
	if err == nil || !strings.Contains(string(busy), "is in use (is the kefu server running?)") {
		t.Fatalf("admin on a locked data dir: %v\n%s", err, busy)
	}
	acc, err := accounts.New(accounts.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	s, err := acc.Login("shop", "boss@shop.example", pw)
	if err != nil {
		t.Fatalf("login with the printed password: %v", err)
	}
	if s.Role != accounts.RoleAdmin {
		t.Fatalf("role %q", s.Role)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	out4, err := kefuCmd(t, "admin", "passwd", "--data", dir, "--site", "shop", "--email", "boss@shop.example").CombinedOutput()
	if err != nil {
		t.Fatalf("admin passwd: %v\n%s", err, out4)
	}
	np := regexp.MustCompile(`: (\S+)\n\(shown once`).FindSubmatch(out4)
	if np == nil {
		t.Fatalf("admin passwd output:\n%s", out4)
	}
	st, err = storage.Open(storage.Options{Dir: filepath.Join(dir, "pebble")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acc, _ = accounts.New(accounts.Options{Store: st})
	if _, err := acc.Login("shop", "boss@shop.example", pw); err == nil {
		t.Fatal("old password still works after admin passwd")
	}
	if _, err := acc.Login("shop", "boss@shop.example", string(np[1])); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	if _, err := acc.Authenticate(s.Token); err == nil {
		t.Fatal("session survived admin passwd")
	}

	for _, bad := range [][]string{
		{"admin"},
		{"admin", "nope", "--site", "x"},
		{"admin", "create", "--data", dir, "--site", "shop"},
	} {
		if out, err := kefuCmd(t, bad...).CombinedOutput(); err == nil || !strings.Contains(string(out), "usage:") {
			t.Fatalf("%v: %v\n%s", bad, err, out)
		}
	}
}
