package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// dist holds the committed build of the SDK.
//
//go:embed dist
var dist embed.FS

// contentType returns the Content-Type of a file of dist by extension, or
// "" for a file not to serve.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".ts":
		// Declarations, read by tools and people; never run by a browser.
		return "text/plain; charset=utf-8"
	}
	return ""
}

// Header values sent with every file. The SDK is loaded by other sites'
// pages, so it is readable from any origin (CORS for module scripts, CORP
// for pages isolated with COEP); the CSP applies when a file is opened as
// a document and forbids everything.
const (
	csp          = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	cacheControl = "public, max-age=300"
)

// Handler serves the built SDK: GET or HEAD /kefu.js, /kefu.min.js,
// /kefu.esm.js and /kefu.d.ts (mount it under a prefix with
// http.StripPrefix), gzipped when the client accepts it, with a strong ETag
// for conditional requests.
type Handler struct {
	files map[string]*file
}

type file struct {
	body, gz   []byte
	ctype      string
	etag, etgz string
}

// NewHandler returns a handler over the embedded build.
func NewHandler() *Handler {
	h := &Handler{files: make(map[string]*file)}
	ents, err := fs.ReadDir(dist, "dist")
	if err != nil {
		panic("BUG: embedded dist unreadable: " + err.Error())
	}
	for _, e := range ents {
		ct := contentType(e.Name())
		if e.IsDir() || ct == "" {
			continue
		}
		body, err := dist.ReadFile("dist/" + e.Name())
		if err != nil {
			panic("BUG: embedded file unreadable: " + err.Error())
		}
		sum := sha256.Sum256(body)
		tag := base64.RawURLEncoding.EncodeToString(sum[:12])
		h.files["/"+e.Name()] = &file{body: body, gz: gzipBytes(body), ctype: ct, etag: `"` + tag + `"`, etgz: `"` + tag + `-gz"`}
	}
	return h
}

// Files lists the paths served, for logs and tests.
func (h *Handler) Files() []string {
	out := make([]string, 0, len(h.files))
	for p := range h.files {
		out = append(out, p)
	}
	return out
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", csp)
	f := h.files[r.URL.Path]
	if f == nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, tag := f.body, f.etag
	if acceptsGzip(r.Header.Values("Accept-Encoding")) {
		body, tag = f.gz, f.etgz
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Vary", "Accept-Encoding")
	hd.Set("ETag", tag)
	hd.Set("Cache-Control", cacheControl)
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	// RFC 9110 §13.1.2: If-None-Match uses the weak comparison.
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, tag) {
		hd.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", f.ctype)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

// acceptsGzip reports whether Accept-Encoding lists gzip with a non-zero
// weight (RFC 9110 §12.5.3).
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.ReplaceAll(strings.TrimSpace(params), " ", ""), "q=")
			if !ok {
				return true
			}
			w, err := strconv.ParseFloat(q, 64)
			return err == nil && w > 0
		}
	}
	return false
}

// etagMatch reports whether the If-None-Match list holds tag or "*",
// ignoring weakness (W/) as the weak comparison does.
func etagMatch(list, tag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
