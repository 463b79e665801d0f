package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// ConsoleCSP is the Content-Security-Policy of every console response.
// Scripts and styles come only from the console's own files (no inline
// script or style), the WebSocket may reach the gateway on any host,
// images are the server's uploads (and data:/blob: previews), no page may
// frame the console, and Trusted Types forbid every string-to-markup sink
// (innerHTML and friends throw): visitor and agent text can only ever be
// text.
const ConsoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; connect-src 'self' ws: wss:; font-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// ConsoleOptions configures the console handler.
type ConsoleOptions struct {
	// WebSocket is the gateway endpoint the console connects to, written
	// into its page:
	//   - "" (the zero value): /ws on the page's own host and port, for a
	//     reverse proxy that serves both the HTTP side and the gateway;
	//   - ":PORT": the page's host on PORT (cmd/kefu passes the gateway
	//     listener's port), ws: or wss: following the page's scheme;
	//   - an absolute ws:// or wss:// URL.
	WebSocket string
}

// ErrConsoleWebSocket reports a ConsoleOptions.WebSocket that is none of
// the accepted forms.
var ErrConsoleWebSocket = errors.New("web: console websocket must be empty, :PORT or a ws:// or wss:// URL")

// Validate checks the options.
func (o *ConsoleOptions) Validate() error {
	ws := o.WebSocket
	switch {
	case ws == "":
		return nil
	case ws[0] == ':':
		p, err := strconv.Atoi(ws[1:])
		if err != nil || p < 1 || p > 65535 || strconv.Itoa(p) != ws[1:] {
			return ErrConsoleWebSocket
		}
		return nil
	}
	u, err := url.Parse(ws)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" || u.User != nil || u.Fragment != "" || strings.ContainsAny(ws, " \t\r\n") {
		return ErrConsoleWebSocket
	}
	return nil
}

// Console serves the agent console built into dist/console: GET or HEAD
// / (and /index.html), /console.js and /console.css. Mount it under
// /console/ with http.StripPrefix("/console", ...). Every answer carries
// ConsoleCSP, X-Frame-Options DENY and nosniff; files are revalidated on
// each load (ETag) and gzipped when the client accepts it.
type Console struct {
	files map[string]*file
}

// consoleIndexMarker is the tag of index.html that NewConsole fills with
// ConsoleOptions.WebSocket.
const consoleIndexMarker = `<meta name="kefu-ws" content="">`

// NewConsole returns a console handler over the embedded build.
func NewConsole(opts ConsoleOptions) (*Console, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	c := &Console{files: make(map[string]*file)}
	ents, err := fs.ReadDir(dist, "dist/console")
	if err != nil {
		panic("BUG: embedded console unreadable: " + err.Error())
	}
	for _, e := range ents {
		ct := consoleType(e.Name())
		if e.IsDir() || ct == "" {
			continue
		}
		body, err := dist.ReadFile("dist/console/" + e.Name())
		if err != nil {
			panic("BUG: embedded file unreadable: " + err.Error())
		}
		if e.Name() == "index.html" {
			if !bytes.Contains(body, []byte(consoleIndexMarker)) {
				panic("BUG: dist/console/index.html lacks " + consoleIndexMarker)
			}
			tag := `<meta name="kefu-ws" content="` + html.EscapeString(opts.WebSocket) + `">`
			body = bytes.Replace(body, []byte(consoleIndexMarker), []byte(tag), 1)
		}
		sum := sha256.Sum256(body)
		etag := base64.RawURLEncoding.EncodeToString(sum[:12])
		c.files["/"+e.Name()] = &file{body: body, gz: gzipBytes(body), ctype: ct, etag: `"` + etag + `"`, etgz: `"` + etag + `-gz"`}
	}
	if c.files["/index.html"] == nil || c.files["/console.js"] == nil {
		panic("BUG: the embedded console build is incomplete: run `node build.mjs` in web/")
	}
	c.files["/"] = c.files["/index.html"]
	return c, nil
}

func consoleType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	return ""
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ConsoleCSP)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	f := c.files[r.URL.Path]
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
	// Revalidate on every load: a new binary brings a new console at once.
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
