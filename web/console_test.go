package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// consoleBudget is the most console.js may weigh gzipped.
const consoleBudget = 32 << 10

func TestConsoleOptions(t *testing.T) {
	for _, tc := range []struct {
		ws string
		ok bool
	}{
		{"", true},
		{":7000", true},
		{":1", true},
		{":65535", true},
		{"ws://chat.example.com/ws", true},
		{"wss://chat.example.com:7443/ws", true},
		{":0", false},
		{":65536", false},
		{":07000", false},
		{":x", false},
		{":", false},
		{"http://chat.example.com/ws", false},
		{"chat.example.com:7000", false},
		{"wss:///ws", false},
		{"wss://u:p@chat.example.com/ws", false},
		{"wss://chat.example.com/ws#x", false},
		{"wss://chat.example.com/ws x", false},
	} {
		o := ConsoleOptions{WebSocket: tc.ws}
		err := o.Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrConsoleWebSocket)) {
			t.Errorf("Validate(%q) = %v, want ok=%v", tc.ws, err, tc.ok)
		}
		if _, err := NewConsole(o); (err == nil) != tc.ok {
			t.Errorf("NewConsole(%q) = %v, want ok=%v", tc.ws, err, tc.ok)
		}
	}
}

func TestConsoleHandler(t *testing.T) {
	c, err := NewConsole(ConsoleOptions{WebSocket: `wss://chat.example.com/ws?a="b"&c=<d>`})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := dist.ReadFile("dist/console/console.js")
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		ctype, encoding    string
	}{
		{"page", "GET", "/", nil, 200, "text/html; charset=utf-8", ""},
		{"index", "GET", "/index.html", nil, 200, "text/html; charset=utf-8", ""},
		{"script", "GET", "/console.js", nil, 200, "text/javascript; charset=utf-8", ""},
		{"style", "GET", "/console.css", map[string]string{"Accept-Encoding": "gzip"}, 200, "text/css; charset=utf-8", "gzip"},
		{"head", "HEAD", "/console.js", nil, 200, "text/javascript; charset=utf-8", ""},
		{"unknown", "GET", "/admin", nil, 404, "", ""},
		{"sdk", "GET", "/kefu.js", nil, 404, "", ""},
		{"traversal", "GET", "/../kefu.js", nil, 404, "", ""},
		{"post", "POST", "/", nil, 405, "", ""},
		{"etag", "GET", "/console.js", map[string]string{"If-None-Match": "*"}, 304, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/", nil)
			r.URL.Path = tc.path
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			c.ServeHTTP(w, r)
			res := w.Result()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			h := res.Header
			if h.Get("Content-Security-Policy") != ConsoleCSP || h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("security headers missing: %v", h)
			}
			if tc.status != 200 {
				return
			}
			if ct := h.Get("Content-Type"); ct != tc.ctype {
				t.Errorf("Content-Type %q, want %q", ct, tc.ctype)
			}
			if ce := h.Get("Content-Encoding"); ce != tc.encoding {
				t.Errorf("Content-Encoding %q, want %q", ce, tc.encoding)
			}
			if h.Get("Cache-Control") != "no-cache" || h.Get("ETag") == "" {
				t.Errorf("caching headers: %v", h)
			}
			body, _ := io.ReadAll(res.Body)
			if tc.encoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(zr)
			}
			switch {
			case tc.method == "HEAD":
				if len(body) != 0 {
					t.Errorf("HEAD answered %d bytes", len(body))
				}
			case tc.path == "/console.js":
				if !bytes.Equal(body, js) {
					t.Errorf("console.js differs from the embedded build")
				}
			case tc.ctype == "text/html; charset=utf-8":
				// The endpoint is written into the page, escaped.
				want := `<meta name="kefu-ws" content="wss://chat.example.com/ws?a=&#34;b&#34;&amp;c=&lt;d&gt;">`
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("page lacks %s:\n%s", want, body)
				}
			}
		})
	}
}

// TestConsoleBuild checks the console bundle's size and type-checks its
// sources (TestBuildMatchesSources compares dist/console with a fresh build).
func TestConsoleBuild(t *testing.T) {
	js, err := dist.ReadFile("dist/console/console.js")
	if err != nil {
		t.Fatal(err)
	}
	n := len(gzipBytes(js))
	t.Logf("console.js: %d bytes minified, %d bytes gzipped (-9); budget %d", len(js), n, consoleBudget)
	if n > consoleBudget {
		t.Errorf("console.js is %d bytes gzipped, over the %d-byte budget", n, consoleBudget)
	}
	// No string-to-markup sink in the bundle: text is set with textContent.
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(string(js), sink) {
			t.Errorf("console.js uses %s", sink)
		}
	}
	dir := needNode(t)
	runNode(t, dir, time.Minute, "node_modules/typescript/bin/tsc", "-p", "console/tsconfig.json")
}
