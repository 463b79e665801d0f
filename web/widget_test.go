package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// widgetBudget is the most kefu-widget.min.js (the chat panel, loaded
// when the widget first opens) may weigh gzipped.
const widgetBudget = 12 << 10

func TestWidgetSizeBudget(t *testing.T) {
	min, err := dist.ReadFile("dist/kefu-widget.min.js")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(min)
	zw.Close()
	t.Logf("kefu-widget.min.js: %d bytes minified, %d bytes gzipped (-9); budget %d", len(min), buf.Len(), widgetBudget)
	if buf.Len() > widgetBudget {
		t.Fatalf("kefu-widget.min.js is %d bytes gzipped, over the %d-byte budget", buf.Len(), widgetBudget)
	}
	// Text is only ever text: the bundle has no string-to-markup sink.
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if bytes.Contains(min, []byte(sink)) {
			t.Errorf("kefu-widget.min.js uses %s", sink)
		}
	}
}

func TestDemoHandler(t *testing.T) {
	d, err := NewDemo(DemoOptions{WebSocket: ":7000"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path string
		status             int
		ctype, contains    string
	}{
		{"root", "GET", "/", 200, "text/html; charset=utf-8", `<meta name="kefu-ws" content=":7000">`},
		{"index", "GET", "/index.html", 200, "text/html; charset=utf-8", `<script src="/sdk/kefu.min.js"></script>`},
		{"script", "GET", "/demo.js", 200, "text/javascript; charset=utf-8", "Kefu.init("},
		{"style", "GET", "/demo.css", 200, "text/css; charset=utf-8", ".product"},
		{"image", "GET", "/kettle.svg", 200, "image/svg+xml", "<svg"},
		{"head", "HEAD", "/", 200, "text/html; charset=utf-8", ""},
		{"unknown", "GET", "/admin", 404, "", ""},
		{"post", "POST", "/", 405, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			d.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			res := w.Result()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if res.Header.Get("Content-Security-Policy") != DemoCSP || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("security headers: %v", res.Header)
			}
			if tc.status != 200 {
				return
			}
			if ct := res.Header.Get("Content-Type"); ct != tc.ctype {
				t.Errorf("Content-Type %q, want %q", ct, tc.ctype)
			}
			body, _ := io.ReadAll(res.Body)
			if !strings.Contains(string(body), tc.contains) {
				t.Errorf("body lacks %q", tc.contains)
			}
		})
	}

	// The endpoint is escaped into the page; bad ones are refused.
	d, err = NewDemo(DemoOptions{WebSocket: `wss://chat.example.com/ws?a=1&b="2"`})
	if err == nil {
		w := httptest.NewRecorder()
		d.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if !strings.Contains(w.Body.String(), `content="wss://chat.example.com/ws?a=1&amp;b=&#34;2&#34;"`) {
			t.Errorf("endpoint not escaped: %s", w.Body.String())
		}
	}
	for _, bad := range []string{"7000", ":0", ":http", "http://x/ws", "ws://", "ws://a b/ws"} {
		if _, err := NewDemo(DemoOptions{WebSocket: bad}); !errors.Is(err, ErrConsoleWebSocket) {
			t.Errorf("NewDemo(%q): %v, want ErrConsoleWebSocket", bad, err)
		}
	}
}
