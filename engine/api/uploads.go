package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/proto"
)

// Upload limits.
const (
	maxUploadName   = 255      // bytes of the original file name kept
	maxVisitorCred  = 4096     // bytes of an Authorization: Visitor credential
	sniffLen        = 512      // bytes http.DetectContentType looks at
	fileCacheMaxAge = 31536000 // seconds: files are content-addressed, so immutable
)

// extTypes maps a stored file's extension to the Content-Type it is served
// with; nothing else is ever served.
var extTypes = map[string]string{
	"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
	"pdf": "application/pdf", "txt": "text/plain; charset=utf-8",
}

// uploadResp is what an upload answers, and the body of an image or file
// message.
type uploadResp = fileBody

// visitorCaller authenticates Authorization: Visitor <base64url(JSON
// hello)> as a HELLO: the hello object of the WebSocket protocol, role
// visitor.
func (a *API) visitorCaller(cred string) (*caller, error) {
	bad := errf(http.StatusUnauthorized, CodeUnauthenticated, "Visitor credentials are base64url(JSON hello) with role visitor")
	if len(cred) > maxVisitorCred {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(cred, "="))
	if err != nil {
		return nil, bad
	}
	var env proto.Envelope
	wrapped := append(append([]byte(`{"hello":`), raw...), '}')
	if proto.UnmarshalJSON(wrapped, &env) != nil || env.Hello == nil || env.Hello.Role != proto.Role_ROLE_VISITOR {
		return nil, bad
	}
	who, err := a.opts.Hello.Authenticate(env.Hello)
	if err != nil || who.Role != proto.Role_ROLE_VISITOR {
		return nil, errf(http.StatusUnauthorized, CodeUnauthenticated, "visitor HELLO refused")
	}
	return &caller{site: who.Site, visitor: who.User, who: who}, nil
}

// corsUpload lets browsers on a site's pages upload (the credentials are
// a header, never a cookie, so any origin may be answered; the Origin is
// checked against the site once the caller is known).
func corsUpload(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
	}
}

// uploadPreflight answers the CORS preflight of POST /api/v1/uploads.
func (a *API) uploadPreflight(w http.ResponseWriter, r *http.Request, _ *caller) error {
	corsUpload(w, r)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Disposition")
	h.Set("Access-Control-Max-Age", "600")
	return noContent(w)
}

// upload stores the raw body content-addressed: <UploadDir>/<hh>/<sha256>.<ext>.
// The declared Content-Type must be on the allow-list and agree with what
// the first bytes look like (http.DetectContentType): HTML posing as text
// or as an image is refused.
func (a *API) upload(w http.ResponseWriter, r *http.Request, c *caller) error {
	if o := r.Header.Get("Origin"); o != "" && c.visitor != "" && a.opts.OriginAllowed != nil && !a.opts.OriginAllowed(c.site, o) {
		return errf(http.StatusForbidden, CodeForbidden, "origin %q may not upload for this site", o)
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !a.types[ct] {
		return errf(http.StatusUnsupportedMediaType, CodeUnsupportedType, "Content-Type must be one of %v", a.opts.UploadTypes)
	}
	max := a.opts.UploadMaxBytes
	if r.ContentLength > max {
		return errf(http.StatusRequestEntityTooLarge, CodeTooLarge, "upload over %d bytes", max)
	}
	body := http.MaxBytesReader(w, r.Body, max)
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(body, head)
	head = head[:n]
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return uploadReadErr(err, max)
	}
	if n == 0 {
		return badRequest("empty upload")
	}
	if sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(head)); sniffed != ct {
		return errf(http.StatusUnsupportedMediaType, CodeUnsupportedType, "content looks like %s, not %s", sniffed, ct)
	}
	if ct == "text/plain" && !utf8.Valid(trimPartialRune(head)) {
		return errf(http.StatusUnsupportedMediaType, CodeUnsupportedType, "text/plain uploads must be UTF-8")
	}
	tmp, err := os.CreateTemp(a.opts.UploadDir, "upload-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a rename there is nothing left to remove
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), io.MultiReader(bytes.NewReader(head), body))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return uploadReadErr(err, max)
	}
	name := hex.EncodeToString(h.Sum(nil)) + "." + uploadTypes[ct]
	dst := a.filePath(name)
	if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), dst); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, uploadResp{URL: FilesPrefix + name, Name: uploadName(r, name), Size: size, Type: ct})
}

func uploadReadErr(err error, max int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errf(http.StatusRequestEntityTooLarge, CodeTooLarge, "upload over %d bytes", max)
	}
	return badRequest("reading the upload: %v", err)
}

// trimPartialRune drops an incomplete UTF-8 sequence cut at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// uploadName is the file name from Content-Disposition (filename or
// filename*), reduced to a base name without control characters, or the
// stored name.
func uploadName(r *http.Request, stored string) string {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
	if err != nil {
		return stored
	}
	n := filepath.Base(strings.ReplaceAll(params["filename"], `\`, "/"))
	n = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, n)
	if n == "" || n == "." || n == "/" {
		return stored
	}
	for len(n) > maxUploadName {
		_, size := utf8.DecodeLastRuneInString(n)
		n = n[:len(n)-size]
	}
	return n
}

// filePath is where a stored name lives: two-hex-digit fan-out folders.
func (a *API) filePath(name string) string {
	return filepath.Join(a.opts.UploadDir, name[:2], name)
}

// validFileName reports whether name is <64 hex digits>.<known ext>.
func validFileName(name string) bool {
	hash, ext, ok := strings.Cut(name, ".")
	if !ok || len(hash) != 64 || extTypes[ext] == "" {
		return false
	}
	for i := 0; i < len(hash); i++ {
		if c := hash[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// serveFile serves a stored upload with the Content-Type of its
// extension (never sniffed, never HTML), nosniff, a sandboxing CSP, and
// Content-Disposition: attachment for everything but images.
func (a *API) serveFile(w http.ResponseWriter, r *http.Request, _ *caller) error {
	name := r.PathValue("name")
	if !validFileName(name) {
		return notFound("file")
	}
	f, err := os.Open(a.filePath(name))
	if errors.Is(err, os.ErrNotExist) {
		return notFound("file")
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	_, ext, _ := strings.Cut(name, ".")
	h := w.Header()
	h.Set("Content-Type", extTypes[ext])
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(fileCacheMaxAge)+", immutable")
	if !strings.HasPrefix(extTypes[ext], "image/") {
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	http.ServeContent(w, r, name, st.ModTime().Truncate(time.Second), f)
	return nil
}
