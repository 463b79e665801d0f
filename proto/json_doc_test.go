package proto

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/token"
)

// TestProtocolDocExamples checks every example line of docs/protocol-ws.md
// ("who → {json}" or "who ← {json}"): what a client sends must decode, or
// be answered by the error without id that follows it; what the server
// sends must be exactly what AppendJSON writes for it.
func TestProtocolDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol-ws.md")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(doc), "\n") {
		if i := strings.Index(l, " {"); i > 0 && (strings.Contains(l[:i], "→") || strings.Contains(l[:i], "←")) {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) < 30 {
		t.Fatalf("found only %d examples", len(lines))
	}
	for i, l := range lines {
		j := strings.Index(l, " {")
		dir, js := l[:j], l[j+1:]
		var e Envelope
		err := UnmarshalJSON([]byte(js), &e)
		if strings.Contains(dir, "→") {
			if err != nil {
				next := ""
				if i+1 < len(lines) {
					next = lines[i+1]
				}
				if !strings.Contains(next, `← {"type":"error","error":{"code":"bad_request"`) {
					t.Errorf("client example %s: %v, and no error answer follows", js, err)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("server example %s: %v", js, err)
			continue
		}
		if got := string(AppendJSON(nil, &e)); got != js {
			t.Errorf("server example differs from AppendJSON:\n doc %s\n got %s", js, got)
		}
	}
}

// TestProtocolDocToken checks the token example of docs/protocol-ws.md §4.
func TestProtocolDocToken(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol-ws.md")
	if err != nil {
		t.Fatal(err)
	}
	const tok = "1795003600.H7AHV6iwGyS48qrantKzBfruOiriMYAL_gpjluXVY6Q"
	if !strings.Contains(string(doc), "`"+tok+"`") || !strings.Contains(string(doc), "`0123456789abcdef0123456789abcdef`") {
		t.Fatal("token example not found in the document")
	}
	err = token.Verify([]byte("0123456789abcdef0123456789abcdef"), tok, "demo", "agent", "alice", time.Unix(1795000000, 0))
	if err != nil {
		t.Fatalf("documented token does not verify: %v", err)
	}
}
