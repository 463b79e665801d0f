package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html"
	"io/fs"
	"net/http"
	"path"
	"strconv"
)

// demoFiles holds the demo H5 page: plain HTML, CSS, JavaScript and an SVG,
// served as they are (no build step).
//
//go:embed demo
var demoFiles embed.FS

// DemoCSP is the Content-Security-Policy of the demo page: its own files
// and the SDK from the same server, no inline script or style, the gateway
// WebSocket on any host, and Trusted Types enforced with only the SDK's
// "kefu" policy allowed (the widget never turns a string into markup).
const DemoCSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types kefu"

// DemoOptions configures the demo page.
type DemoOptions struct {
	// WebSocket is the gateway endpoint the page's widget connects to, in
	// the forms of ConsoleOptions.WebSocket: "" (the zero value) for /ws on
	// the page's host and port, ":PORT" for the page's host on PORT
	// (cmd/kefu passes the gateway listener's port), or a ws:// or wss://
	// URL.
	WebSocket string
}

// Validate checks the options.
func (o *DemoOptions) Validate() error {
	return (&ConsoleOptions{WebSocket: o.WebSocket}).Validate()
}

// demoMarker is the tag of index.html that NewDemo fills with
// DemoOptions.WebSocket.
const demoMarker = `<meta name="kefu-ws" content="">`

// Demo serves the demo H5 page (a product page with the chat widget): GET
// or HEAD / (and /index.html), /demo.js, /demo.css and /kettle.svg. Mount
// it under /demo/ with http.StripPrefix("/demo", ...); the page loads the
// SDK from /sdk/. Every answer carries DemoCSP and nosniff; files are
// revalidated on each load (ETag) and gzipped when the client accepts it.
type Demo struct {
	files map[string]*file
}

// NewDemo returns the demo page handler over the embedded files.
func NewDemo(opts DemoOptions) (*Demo, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	d := &Demo{files: make(map[string]*file)}
	ents, err := fs.ReadDir(demoFiles, "demo")
	if err != nil {
		panic("BUG: embedded demo unreadable: " + err.Error())
	}
	for _, e := range ents {
		ct := demoType(e.Name())
		if e.IsDir() || ct == "" {
			continue
		}
		body, err := demoFiles.ReadFile("demo/" + e.Name())
		if err != nil {
			panic("BUG: embedded file unreadable: " + err.Error())
		}
		if e.Name() == "index.html" {
			if !bytes.Contains(body, []byte(demoMarker)) {
				panic("BUG: demo/index.html lacks " + demoMarker)
			}
			tag := `<meta name="kefu-ws" content="` + html.EscapeString(opts.WebSocket) + `">`
			body = bytes.Replace(body, []byte(demoMarker), []byte(tag), 1)
		}
		sum := sha256.Sum256(body)
		tag := base64.RawURLEncoding.EncodeToString(sum[:12])
		d.files["/"+e.Name()] = &file{body: body, gz: gzipBytes(body), ctype: ct, etag: `"` + tag + `"`, etgz: `"` + tag + `-gz"`}
	}
	if d.files["/index.html"] == nil || d.files["/demo.js"] == nil {
		panic("BUG: the embedded demo page is incomplete")
	}
	d.files["/"] = d.files["/index.html"]
	return d, nil
}

func demoType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return ""
}

func (d *Demo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", DemoCSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	f := d.files[r.URL.Path]
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
	hd.Set("Cache-Control", "no-cache")
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
