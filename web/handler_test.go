package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestHandler(t *testing.T) {
	h := NewHandler()
	got := h.Files()
	slices.Sort(got)
	if want := []string{"/kefu-widget.min.js", "/kefu.d.ts", "/kefu.esm.js", "/kefu.js", "/kefu.min.js"}; !slices.Equal(got, want) {
		t.Fatalf("Files() = %v, want %v", got, want)
	}
	min, _ := dist.ReadFile("dist/kefu.min.js")
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		ctype, encoding    string
		body               []byte // nil: not checked
	}{
		{"script", "GET", "/kefu.min.js", nil, 200, "text/javascript; charset=utf-8", "", min},
		{"gzip", "GET", "/kefu.min.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"}, 200, "text/javascript; charset=utf-8", "gzip", min},
		{"gzip refused", "GET", "/kefu.min.js", map[string]string{"Accept-Encoding": "gzip;q=0, br"}, 200, "text/javascript; charset=utf-8", "", min},
		{"module", "GET", "/kefu.esm.js", nil, 200, "text/javascript; charset=utf-8", "", nil},
		{"declarations", "GET", "/kefu.d.ts", nil, 200, "text/plain; charset=utf-8", "", nil},
		{"head", "HEAD", "/kefu.js", nil, 200, "text/javascript; charset=utf-8", "", []byte{}},
		{"unknown", "GET", "/kefu.css", nil, 404, "", "", nil},
		{"directory", "GET", "/", nil, 404, "", "", nil},
		{"nested", "GET", "/dist/kefu.js", nil, 404, "", "", nil},
		{"post", "POST", "/kefu.js", nil, 405, "", "", nil},
		{"any etag", "GET", "/kefu.js", map[string]string{"If-None-Match": "*"}, 304, "", "", []byte{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			res := w.Result()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Content-Security-Policy") != csp {
				t.Errorf("security headers missing: %v", res.Header)
			}
			if tc.status != 200 {
				return
			}
			if ct := res.Header.Get("Content-Type"); ct != tc.ctype {
				t.Errorf("Content-Type %q, want %q", ct, tc.ctype)
			}
			if ce := res.Header.Get("Content-Encoding"); ce != tc.encoding {
				t.Errorf("Content-Encoding %q, want %q", ce, tc.encoding)
			}
			for k, v := range map[string]string{"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin", "Vary": "Accept-Encoding", "Cache-Control": cacheControl} {
				if res.Header.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, res.Header.Get(k), v)
				}
			}
			body, _ := io.ReadAll(res.Body)
			if tc.encoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(zr)
			}
			if tc.body != nil && !bytes.Equal(body, tc.body) {
				t.Errorf("body: %d bytes, want %d", len(body), len(tc.body))
			}
		})
	}
}

func TestHandlerConditional(t *testing.T) {
	h := NewHandler()
	for _, enc := range []string{"", "gzip"} {
		r := httptest.NewRequest("GET", "/kefu.js", nil)
		r.Header.Set("Accept-Encoding", enc)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		tag := w.Header().Get("ETag")
		if tag == "" {
			t.Fatal("no ETag")
		}
		for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag} {
			r := httptest.NewRequest("GET", "/kefu.js", nil)
			r.Header.Set("Accept-Encoding", enc)
			r.Header.Set("If-None-Match", inm)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 304 || w.Body.Len() != 0 {
				t.Errorf("encoding %q, If-None-Match %s: status %d, %d bytes; want 304, empty", enc, inm, w.Code, w.Body.Len())
			}
		}
		r = httptest.NewRequest("GET", "/kefu.js", nil)
		r.Header.Set("If-None-Match", `"stale"`)
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Errorf("stale ETag: status %d, want 200", w.Code)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for in, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip": true, "gzip;q=0": false,
		"gzip; q=0.001": true, "gzip;q=bad": false, "br": false, "x-gzip": false, "gzip;level=1": true,
	} {
		if got := acceptsGzip([]string{in}); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", in, got, want)
		}
	}
}
