package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/internal/token"
)

// pngBytes is a PNG signature followed by filler: enough for
// http.DetectContentType.
func pngBytes(n int) []byte {
	b := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, n)...)
	for i := 8; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

func visitorCred(t *testing.T, hello string) string {
	t.Helper()
	return "Visitor " + base64.RawURLEncoding.EncodeToString([]byte(hello))
}

func TestUploads(t *testing.T) {
	var origins []string
	e := newEnv(t, func(o *Options) {
		o.OriginAllowed = func(site, origin string) bool {
			origins = append(origins, site+" "+origin)
			return origin == "https://shop.example"
		}
	})
	img := pngBytes(3000)
	sum := sha256.Sum256(img)
	wantURL := "/files/" + hex.EncodeToString(sum[:]) + ".png"
	up := e.must(http.StatusCreated, e.do("POST", "/api/v1/uploads", "a-agent", img,
		"Content-Type", "image/png", "Content-Disposition", `attachment; filename="../../cat picture.png"`)).json(t)
	if up["url"] != wantURL || up["name"] != "cat picture.png" || up["size"] != float64(len(img)) || up["type"] != "image/png" {
		t.Fatalf("upload: %v", up)
	}
	// The same bytes again: the same file, stored once.
	again := e.must(http.StatusCreated, e.do("POST", "/api/v1/uploads", "a-agent", img, "Content-Type", "image/png")).json(t)
	if again["url"] != wantURL || !strings.HasSuffix(again["name"].(string), ".png") {
		t.Fatalf("second upload: %v", again)
	}
	var stored []string
	_ = filepath.WalkDir(filepath.Join(e.dir, "uploads"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			stored = append(stored, filepath.Base(p))
		}
		return nil
	})
	if len(stored) != 1 || "/files/"+stored[0] != wantURL {
		t.Fatalf("stored files: %v", stored)
	}

	// Served with its own type, nosniff, inline for images.
	got := e.must(http.StatusOK, e.do("GET", wantURL, "", nil))
	if !bytes.Equal(got.body, img) || got.header.Get("Content-Type") != "image/png" || got.header.Get("X-Content-Type-Options") != "nosniff" ||
		got.header.Get("Content-Disposition") != "" || !strings.Contains(got.header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("served: %d %v", len(got.body), got.header)
	}
	txt := e.must(http.StatusCreated, e.do("POST", "/api/v1/uploads", "a-agent", "plain words\n", "Content-Type", "text/plain; charset=utf-8")).json(t)
	gt := e.must(http.StatusOK, e.do("GET", txt["url"].(string), "", nil))
	if gt.header.Get("Content-Type") != "text/plain; charset=utf-8" || !strings.HasPrefix(gt.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("text served with %v", gt.header)
	}
	e.must(http.StatusNotFound, e.do("GET", "/files/"+strings.Repeat("a", 64)+".png", "", nil))
	for _, bad := range []string{"/files/x.png", "/files/" + strings.Repeat("a", 64) + ".html", "/files/" + strings.Repeat("A", 64) + ".png"} {
		if r := e.do("GET", bad, "", nil); r.status != 404 || r.code() != CodeNotFound {
			t.Fatalf("GET %s: %d %s", bad, r.status, r.body)
		}
	}

	for _, tc := range []struct {
		name   string
		ct     string
		body   []byte
		status int
		code   string
	}{
		{"html as text", "text/plain", []byte("<html><script>alert(1)</script>"), 415, CodeUnsupportedType},
		{"html as png", "image/png", []byte("<!DOCTYPE html><p>hi"), 415, CodeUnsupportedType},
		{"png as jpeg", "image/jpeg", img, 415, CodeUnsupportedType},
		{"svg not allowed", "image/svg+xml", []byte("<svg/>"), 415, CodeUnsupportedType},
		{"no type", "", img, 415, CodeUnsupportedType},
		{"not utf-8 text", "text/plain", []byte("abc\xff\xfe\xfd def"), 415, CodeUnsupportedType},
		{"empty", "image/png", nil, 400, CodeBadRequest},
		{"too large", "image/png", pngBytes(64 << 10), 413, CodeTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/uploads", "a-agent", tc.body, "Content-Type", tc.ct)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	// Too large without a Content-Length (chunked): cut at the limit.
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/uploads", io.MultiReader(bytes.NewReader(pngBytes(64<<10)), strings.NewReader("x")))
	req.Header.Set("Authorization", "Bearer "+e.tokens["a-agent"])
	req.Header.Set("Content-Type", "image/png")
	req.ContentLength = -1
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("chunked over the limit: %d", res.StatusCode)
	}

	// Visitors upload with their HELLO; the Origin must be the site's.
	site, _ := e.acc.GetSite("a")
	vt := token.Sign([]byte(site.Secret), "a", "visitor", "v1", e.api.opts.Now().Add(3600e9))
	cred := visitorCred(t, `{"site":"a","role":"visitor","user":"v1","token":"`+vt+`"}`)
	vu := e.must(http.StatusCreated, e.do("POST", "/api/v1/uploads", "", img, "Content-Type", "image/png",
		"Authorization", cred, "Origin", "https://shop.example"))
	if vu.header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("CORS header: %v", vu.header)
	}
	anon := visitorCred(t, `{"site":"a","role":"visitor","user":"v2"}`)
	e.must(http.StatusCreated, e.do("POST", "/api/v1/uploads", "", img, "Content-Type", "image/png", "Authorization", anon))
	if r := e.do("POST", "/api/v1/uploads", "", img, "Content-Type", "image/png", "Authorization", cred, "Origin", "https://evil.example"); r.status != 403 {
		t.Fatalf("foreign origin: %d %s", r.status, r.body)
	}
	if origins[0] != "a https://shop.example" {
		t.Fatalf("origin check called with %v", origins)
	}
	for _, bad := range []string{
		visitorCred(t, `{"site":"a","role":"visitor","user":"v1","token":"1.bad"}`),
		visitorCred(t, `{"site":"a","role":"agent","user":"`+e.ids["a-agent"]+`","token":"`+e.tokens["a-agent"]+`"}`),
		visitorCred(t, `{"site":"nope","role":"visitor","user":"v1"}`),
		visitorCred(t, `not json`),
		"Visitor %%%",
		"Visitor " + strings.Repeat("A", maxVisitorCred+1),
	} {
		if r := e.do("POST", "/api/v1/uploads", "", img, "Content-Type", "image/png", "Authorization", bad); r.status != 401 {
			t.Fatalf("credential %.60q: %d %s", bad, r.status, r.body)
		}
	}
	e.must(http.StatusUnauthorized, e.do("POST", "/api/v1/uploads", "", img, "Content-Type", "image/png"))
	pre := e.must(http.StatusNoContent, e.do("OPTIONS", "/api/v1/uploads", "", nil, "Origin", "https://shop.example",
		"Access-Control-Request-Method", "POST"))
	if pre.header.Get("Access-Control-Allow-Origin") != "https://shop.example" || !strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %v", pre.header)
	}

	// An image message carries the upload's JSON.
	e.openConv("a", "v1", "c1")
	body := `{"url":"` + wantURL + `","name":"cat.png","size":3008,"type":"image/png"}`
	e.must(http.StatusCreated, e.do("POST", "/api/v1/conversations/c1/messages", "a-agent", map[string]string{"kind": "image", "body": body}))
	msgs, _ := e.must(http.StatusOK, e.do("GET", "/api/v1/conversations/c1/messages", "a-agent", nil)).items(t)
	if last := msgs[len(msgs)-1]; last["kind"] != "image" || last["body"] != body {
		t.Fatalf("image message: %v", last)
	}
}
