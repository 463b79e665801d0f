//go:build unix

package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/internal/testserver"
	pb "github.com/kefu-im/kefu/proto"
)

// demoSite serves what the binary serves on its HTTP side for the demo:
// the page (Demo) under /demo/, the SDK and the widget (Handler) under
// /sdk/, and POST /api/v1/uploads and GET /files/ answering as
// engine/api does (the test server does not mount the REST API yet).
type demoSite struct {
	*httptest.Server
	demo    atomic.Pointer[Demo]
	uploads *uploads
}

func newDemoSite(t *testing.T) *demoSite {
	s := &demoSite{uploads: &uploads{t: t, files: map[string][]byte{}}}
	mux := http.NewServeMux()
	mux.Handle("/sdk/", http.StripPrefix("/sdk", NewHandler()))
	mux.Handle("/demo/", http.StripPrefix("/demo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.demo.Load().ServeHTTP(w, r)
	})))
	mux.Handle("/api/v1/uploads", s.uploads)
	mux.Handle("/files/", s.uploads)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// gateway points the page at a gateway endpoint (DemoOptions.WebSocket).
func (s *demoSite) gateway(t *testing.T, ws string) {
	d, err := NewDemo(DemoOptions{WebSocket: ws})
	if err != nil {
		t.Fatal(err)
	}
	s.demo.Store(d)
}

// uploads checks the visitor's credentials (Authorization: Visitor
// base64url(JSON hello)) and keeps the files in memory.
type uploads struct {
	t     *testing.T
	mu    sync.Mutex
	files map[string][]byte
	users []string
}

func (u *uploads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		u.mu.Lock()
		b, ok := u.files[r.URL.Path]
		u.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(b)
		return
	}
	var hello struct{ Site, Role, User string }
	cred, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Visitor ")
	raw, err := base64.RawURLEncoding.DecodeString(cred)
	if !ok || err != nil || json.Unmarshal(raw, &hello) != nil || hello.Site != testserver.Site || hello.Role != "visitor" || hello.User == "" {
		http.Error(w, `{"error":{"code":"unauthenticated"}}`, http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Content-Type") != "image/png" {
		http.Error(w, `{"error":{"code":"bad_request"}}`, http.StatusBadRequest)
		return
	}
	_, cd, _ := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	sum := sha256.Sum256(body)
	p := "/files/" + hex.EncodeToString(sum[:]) + ".png"
	u.mu.Lock()
	u.files[p] = body
	u.users = append(u.users, hello.User)
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"url": p, "name": cd["filename"], "size": len(body), "type": "image/png"})
}

func (u *uploads) uploaders() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.users)
}

// w evaluates expr in the page with r (the widget's shadow root), $ and $$
// (querySelector and querySelectorAll in it) defined; null before the
// widget exists.
func w(expr string) string {
	return `(() => { const r = document.getElementById("kefu-widget")?.shadowRoot; if (!r) return null;
		const $ = (s) => r.querySelector(s), $$ = (s) => [...r.querySelectorAll(s)]; return (` + expr + `); })()`
}

// shot saves what is on page's screen into the test's artifacts as
// widget-NAME.png, and for the README's pictures (docs) also into
// $KEFU_WIDGET_SCREENSHOTS when set: KEFU_WIDGET_SCREENSHOTS=$PWD/../docs/screenshots
// go test -run TestWidget ./web/ renews docs/screenshots/widget-*.png.
func shot(t *testing.T, d *driver, page, name string, docs bool) {
	t.Helper()
	d.do("shot", page, map[string]any{"path": filepath.Join(t.ArtifactDir(), "widget-"+name+".png"), "viewport": true})
	if dir := os.Getenv("KEFU_WIDGET_SCREENSHOTS"); dir != "" && docs {
		d.do("shot", page, map[string]any{"path": filepath.Join(dir, "widget-"+name+".png"), "viewport": true})
	}
}

// desktop is the viewport of the pages that are not phones.
var desktop = map[string]any{"width": 1024, "height": 720}

// openPage opens url in a new context named page with a desktop viewport.
func openPage(d *driver, page, url string) {
	d.do("page", page, map[string]any{"url": url, "width": desktop["width"], "height": desktop["height"]})
}

// pngBytes is a small image to upload.
func pngBytes() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 120, 80))
	for y := range 80 {
		for x := range 120 {
			img.Set(x, y, color.RGBA{uint8(20 + x), uint8(110 + y), 110, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// noPageErrors fails on uncaught exceptions and CSP or Trusted Types
// violations reported by the page.
func noPageErrors(t *testing.T, d *driver, pages ...string) {
	t.Helper()
	for _, p := range pages {
		for _, l := range d.logs(p) {
			if strings.HasPrefix(l, "pageerror") || strings.Contains(l, "Content Security Policy") || strings.Contains(l, "TrustedScriptURL") {
				t.Errorf("%s: %s", p, l)
			}
		}
	}
}

// TestWidget runs the demo page with the widget in one Chromium: against a
// real kefu as a relay (Chat) and with its routing desk (Routed), and
// through every conversation state with a scripted gateway (Routing).
func TestWidget(t *testing.T) {
	d := startDriver(t, needNode(t), needChromium(t))
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *driver)
	}{{"Chat", widgetChat}, {"Routed", widgetRouted}, {"Routing", widgetRouting}} {
		t.Run(tc.name, func(t *testing.T) {
			d.t = t
			tc.run(t, d)
		})
	}
}

// widgetChat runs the demo page against a real kefu, the agent being the
// Go SDK: the lazy load, keyboard use (Tab order, focus trap, Esc, Enter),
// a chat with typing and read ticks, XSS payloads, images and files (only
// the server's URLs), an upload, the history after a reload, the
// full-screen panel on a phone, and a page of a foreign origin.
func widgetChat(t *testing.T, d *driver) {
	site, foreign := newDemoSite(t), newDemoSite(t)
	srv := testserver.Start(t, testserver.WithAllowedOrigins(site.URL))
	site.gateway(t, srv.WSURL())
	foreign.gateway(t, srv.WSURL())
	const v = "visitor"
	openPage(d, v, site.URL+"/demo/")

	// 1. The launcher is there at once; the panel's bundle is not loaded
	// until it opens. The stylesheet applies under the page's CSP.
	d.wait(v, w(`$("button.l")`))
	var st map[string]any
	d.eval(v, w(`({label: $("button.l").getAttribute("aria-label"), expanded: $("button.l").getAttribute("aria-expanded"),
		position: getComputedStyle($("button.l")).position, loaded: !!window.KefuWidget || !!document.querySelector('script[src*="kefu-widget"]')})`), &st)
	if st["label"] != "Open chat" || st["expanded"] != "false" || st["position"] != "fixed" || st["loaded"] != false {
		t.Fatalf("launcher before opening: %v", st)
	}

	// 2. Keyboard: Tab from the page's last control reaches the launcher,
	// Enter opens the panel with the focus in the message field, Tab stays
	// inside the panel, Esc closes it and gives the focus back.
	d.eval(v, `document.getElementById("ask").focus()`, nil)
	d.do("press", v, map[string]any{"key": "Tab"})
	d.wait(v, w(`document.activeElement.id == "kefu-widget" && r.activeElement == $("button.l")`))
	d.do("press", v, map[string]any{"key": "Enter"})
	d.wait(v, w(`$(".p") && !$(".p").hidden && r.activeElement == $(".f textarea")`))
	d.eval(v, w(`({role: $(".p").getAttribute("role"), modal: $(".p").getAttribute("aria-modal"), log: $(".g").getAttribute("role"),
		live: $(".g").getAttribute("aria-live"), expanded: $("button.l").getAttribute("aria-expanded"), title: $("#kt").textContent,
		greeting: $(".gr").textContent, unnamed: $$("button").filter(b => !(b.getAttribute("aria-label") || b.textContent.trim())).length})`), &st)
	if st["role"] != "dialog" || st["modal"] != "true" || st["log"] != "log" || st["live"] != "polite" || st["expanded"] != "true" ||
		st["title"] != "Aurora support" || !strings.HasPrefix(fmt.Sprint(st["greeting"]), "Hi! Questions") || st["unnamed"] != 0.0 {
		t.Fatalf("open panel: %v", st)
	}
	var cycle []string
	for range 8 {
		d.do("press", v, map[string]any{"key": "Tab"})
		var in string
		d.eval(v, w(`$(".p").contains(r.activeElement) ? (r.activeElement.getAttribute("aria-label") || r.activeElement.textContent) : "outside: " + (r.activeElement || document.activeElement).tagName`), &in)
		cycle = append(cycle, in)
	}
	// From the message field: Send, then around (the End button shows only
	// in a routed conversation).
	if want := []string{"Send", "Close chat", "Messages", "Send an image or a file", "Message", "Send", "Close chat", "Messages"}; !slices.Equal(cycle, want) {
		t.Fatalf("Tab order in the panel: %q, want %q", cycle, want)
	}
	d.do("press", v, map[string]any{"key": "Shift+Tab"})
	d.do("press", v, map[string]any{"key": "Escape"})
	d.wait(v, w(`$(".p").hidden && r.activeElement == $("button.l") && $("button.l").getAttribute("aria-expanded") == "false"`))
	d.do("press", v, map[string]any{"key": "Enter"})
	d.wait(v, w(`!$(".p").hidden && r.activeElement == $(".f textarea")`))

	// 3. Enter sends; the message shows at once and gets its tick with the ACK.
	d.do("type", v, map[string]any{"text": "Hello, is anyone there?"})
	d.do("press", v, map[string]any{"key": "Enter"})
	d.wait(v, w(`$$(".m.me .tk.sent").length == 1 && $(".f textarea").value == ""`))
	var conv, user string
	d.eval(v, "Kefu.conversation()", &conv)
	d.eval(v, "Kefu.user()", &user)

	// 4. The agent joins, types and answers; the visitor reads it (the
	// panel is open), the agent reads the visitor's message: two ticks.
	a := dialAgent(t, srv)
	if missed := a.join(conv, 0); len(missed) != 1 || missed[0].Body != "Hello, is anyone there?" || missed[0].Sender != "v:"+user {
		t.Fatalf("agent join: %v", missed)
	}
	a.event(conv, "typing", 0)
	d.wait(v, w(`$(".ty").textContent == "Agent is typing…"`))
	a.send(conv, "Hi! How can I help?")
	d.wait(v, w(`$$(".m.them .tx").map(e => e.textContent).includes("Hi! How can I help?") && $(".ty").textContent == ""`))
	if e := a.next(pb.Type_TYPE_EVENT); e.Event != "read" || e.Seq != 2 {
		t.Fatalf("agent got %v, want read 2", e)
	}
	d.do("type", v, map[string]any{"text": "Ok"})
	if e := a.next(pb.Type_TYPE_EVENT); e.Event != "typing" || e.Sender != "v:"+user {
		t.Fatalf("agent got %v, want typing", e)
	}
	d.do("press", v, map[string]any{"key": "Enter"})
	if m := a.next(pb.Type_TYPE_MESSAGE); m.Body != "Ok" || m.Seq != 3 {
		t.Fatalf("agent got %v, want Ok", m)
	}
	a.event(conv, "read", 1)
	d.wait(v, w(`$$(".m.me .tk.read").length == 1 && $(".m.me .tk").getAttribute("aria-label") == "Read" && $$(".m.me .tk.sent").length == 1`))
	shot(t, d, v, "chat", true)

	// 5. XSS: what an agent writes is text, whatever it looks like.
	payloads := []string{`<img src=x onerror=window.__xss=1>`, `<script>window.__xss=1</script>`, `<svg onload="window.__xss=3"></svg>`}
	for _, p := range payloads {
		a.send(conv, p)
	}
	var shown []string
	d.wait(v, w(`$$(".m.them .tx").length == 4`))
	d.eval(v, w(`$$(".m.them .tx").slice(1).map(e => e.textContent)`), &shown)
	if !slices.Equal(shown, payloads) {
		t.Fatalf("payloads shown as %q", shown)
	}
	var markup int
	d.eval(v, w(`document.querySelectorAll("img[src=x], svg[onload]").length + $$("img[src=x], script, svg[onload], iframe").length + (window.__xss === undefined ? 0 : 100)`), &markup)
	if markup != 0 {
		t.Fatalf("an XSS payload became markup or ran (%d)", markup)
	}

	// A reply while the panel is closed: the launcher counts it.
	d.do("press", v, map[string]any{"key": "Escape"})
	a.send(conv, "Are you still there?")
	d.wait(v, w(`$(".b").textContent == "1" && $("button.l").getAttribute("aria-label") == "Open chat, 1 unread"`))
	d.do("press", v, map[string]any{"key": "Enter"})
	d.wait(v, w(`!$(".p").hidden && $(".b").textContent == "" && $$(".m.them .tx").length == 5`))

	// 6. An upload: the visitor picks an image; it goes to the uploads API
	// with the visitor's credentials, then as an image message. The agent
	// gets kind image with the file's JSON, the page shows the server's
	// image. Images or links elsewhere (or javascript:) are not made.
	img := pngBytes()
	d.eval(v, w(`(() => { const b = Uint8Array.from(atob(`+js(base64.StdEncoding.EncodeToString(img))+`), c => c.charCodeAt(0));
		const dt = new DataTransfer(); dt.items.add(new File([b], "kettle photo (1)'s.png", {type: "image/png"}));
		const i = $(".f input[type=file]"); i.files = dt.files; i.dispatchEvent(new Event("change")); return true; })()`), nil)
	m := a.next(pb.Type_TYPE_MESSAGE)
	var file struct {
		URL, Name, Type string
		Size            int
	}
	if err := json.Unmarshal([]byte(m.Body), &file); err != nil || m.Kind != pb.Kind_KIND_IMAGE || file.Name != "kettle photo (1)'s.png" || file.Size != len(img) || file.Type != "image/png" || !strings.HasPrefix(file.URL, "/files/") {
		t.Fatalf("agent got %v (%v)", m, err)
	}
	if users := site.uploads.uploaders(); !slices.Equal(users, []string{user}) {
		t.Fatalf("uploaded as %q, want %q", users, user)
	}
	d.wait(v, w(`$$(".m.me img").some(i => i.src == `+js(site.URL+file.URL)+` && i.complete && i.naturalWidth == 120)`))
	for _, att := range []struct {
		kind pb.Kind
		body string
	}{
		{pb.Kind_KIND_IMAGE, `{"url":"https://evil.example/x.png","name":"elsewhere.png"}`},
		{pb.Kind_KIND_FILE, `{"url":"javascript:window.__xss=5","name":"click-me.pdf"}`},
		{pb.Kind_KIND_FILE, `{"url":"` + file.URL + `","name":"manual.pdf","size":123456,"type":"application/pdf"}`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := a.c.Request(ctx, &pb.Envelope{Type: pb.Type_TYPE_SEND, Conversation: conv, ClientMsgId: a.c.NewClientMsgID(), Kind: att.kind, Body: att.body})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	var links map[string]any
	d.wait(v, w(`$$(".m.them").length == 1 + 8`)) // the greeting and the agent's messages
	d.eval(v, w(`({imgs: $$(".m.them img").length, links: $$(".m.them a").map(a => a.href + " " + a.textContent), texts: $$(".m.them .tx").slice(5).map(e => e.textContent)})`), &links)
	if fmt.Sprint(links["imgs"]) != "0" || fmt.Sprint(links["links"]) != fmt.Sprintf("[%s%s manual.pdf · 121 KB]", site.URL, file.URL) || fmt.Sprint(links["texts"]) != "[elsewhere.png click-me.pdf]" {
		t.Fatalf("attachments from the agent: %v", links)
	}
	shot(t, d, v, "attachments", true)

	// 7. A reload (another page of the shop): the panel opens again by
	// itself and shows the conversation so far, fetched from the server.
	d.reload(v, site.URL+"/demo/")
	d.wait(v, w(`$(".p") && !$(".p").hidden && $$(".m").length == 1 + 11`))
	var texts []string
	d.eval(v, w(`$$(".m .tx").slice(0, 3).map(e => e.textContent)`), &texts)
	if !slices.Equal(texts, []string{"Hello, is anyone there?", "Hi! How can I help?", "Ok"}) {
		t.Fatalf("history after reload: %q", texts)
	}

	// 8. A phone (375×667): the panel takes the whole screen, the field's
	// text is 16px (no zoom on focus).
	const phone = "phone"
	d.do("page", phone, map[string]any{"url": site.URL + "/demo/", "width": 375, "height": 667})
	d.wait(phone, w(`$("button.l")`))
	d.do("click", phone, map[string]any{"selector": "#ask"}) // the page's button: Kefu.open()
	d.wait(phone, w(`$(".p") && !$(".p").hidden && !$(".p").getAnimations().length`))
	var rect []float64
	d.eval(phone, w(`(b => [b.left, b.top, b.width, b.height, parseFloat(getComputedStyle($(".f textarea")).fontSize)])($(".p").getBoundingClientRect())`), &rect)
	if !slices.Equal(rect, []float64{0, 0, 375, 667, 16}) {
		t.Fatalf("phone panel [left top width height font-size] = %v, want [0 0 375 667 16]", rect)
	}
	d.do("type", phone, map[string]any{"text": "Does it come in white?"})
	d.do("press", phone, map[string]any{"key": "Enter"})
	d.wait(phone, w(`$$(".m.me .tk.sent").length == 1`))
	shot(t, d, phone, "mobile", true)

	// 9. A page of an origin not on the allow-list: the WebSocket
	// handshake gets 403, the widget says it is reconnecting and keeps the
	// message queued.
	if code := handshakeStatus(t, srv.Addr(), foreign.URL); code != http.StatusForbidden {
		t.Fatalf("handshake from %s: %d, want 403", foreign.URL, code)
	}
	const f = "foreign"
	openPage(d, f, foreign.URL+"/demo/")
	d.wait(f, w(`$("button.l")`))
	d.do("click", f, map[string]any{"selector": "button.l"})
	d.wait(f, w(`$(".f textarea") && r.activeElement == $(".f textarea")`))
	d.do("type", f, map[string]any{"text": "Hello?"})
	d.do("press", f, map[string]any{"key": "Enter"})
	d.wait(f, w(`$(".n").textContent == "Reconnecting…" && !$(".n").hidden && $$(".m.me .tk.sending").length == 1`))
	if logs := d.logs(f); !slices.ContainsFunc(logs, func(l string) bool { return strings.Contains(l, "403") }) {
		t.Errorf("browser did not report a 403 handshake: %q", logs)
	}
	shot(t, d, f, "foreign-origin", false)
	noPageErrors(t, d, v, phone)
}

// widgetRouted runs the widget against a real kefu with routing on: the
// visitor waits in the queue, an agent comes online and is assigned (the
// widget shows the agent's name), answers and closes the conversation; the
// visitor rates it.
func widgetRouted(t *testing.T, d *driver) {
	site := newDemoSite(t)
	srv := testserver.Start(t, testserver.WithAllowedOrigins(site.URL), testserver.WithRouting())
	site.gateway(t, srv.WSURL())
	const v = "visitor"
	const notice = `($(".n").hidden ? "" : $(".n").textContent)`
	openPage(d, v, site.URL+"/demo/")
	d.wait(v, w(`$("button.l")`))
	d.do("click", v, map[string]any{"selector": "button.l"})
	d.wait(v, w(`$(".f textarea") && r.activeElement == $(".f textarea")`))
	d.do("type", v, map[string]any{"text": "Is the kettle in stock?"})
	d.do("press", v, map[string]any{"key": "Enter"})
	d.wait(v, w(notice+` == "You are number 1 in the queue" && $$(".m.me .tk.sent").length == 1`))
	var conv string
	d.eval(v, "Kefu.conversation()", &conv)

	// alice comes online: the desk assigns her the conversation.
	a := dialAgent(t, srv)
	var st map[string]any
	d.wait(v, w(notice+` == "" && !$(".hd .end").hidden && $(".hs").textContent != "We usually reply in a few minutes"`))
	d.eval(v, "Kefu.state()", &st)
	name, _ := st["name"].(string)
	if st["state"] != "open" || st["agent"] != "alice" || name == "" {
		t.Fatalf("Kefu.state() after the assignment: %v", st)
	}
	d.wait(v, w(`$(".hs").textContent == `+js(name)+` && $$(".sys").some(e => e.textContent == `+js(name+" joined the conversation")+`)`))
	a.join(conv, 0)
	a.send(conv, "Yes, in all three colors.")
	d.wait(v, w(`$(".m.them .who")?.textContent == `+js(name)))

	// alice closes it (from her console, another connection); the visitor
	// rates it (the server takes the rating).
	if reply := agentRequest(t, srv.WSURL(), "alice", fmt.Sprintf(`{"type":"close","id":2,"conversation":%s}`, js(conv))); reply["type"] != "ok" {
		t.Fatalf("agent close: %v", reply)
	}
	d.wait(v, w(`$(".f").hidden && !$(".rs").hidden && $(".hd .end").hidden`))
	d.do("click", v, map[string]any{"selector": ".rs .st label:nth-child(5)"})
	d.do("click", v, map[string]any{"selector": ".rs .pb"})
	d.wait(v, w(`!$(".dn").hidden && $(".dn p").textContent == "Thank you for your feedback!"`))
	d.wait(v, `Kefu.state().rating == 5`)
	noPageErrors(t, d, v)
}

// agentRequest sends one request (id 2) as agent user on a new WebSocket
// connection and returns its reply.
func agentRequest(t *testing.T, wsURL, user, request string) map[string]any {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	hello := fmt.Sprintf(`{"type":"hello","id":1,"hello":{"site":%s,"role":"agent","user":%s,"token":%s}}`, js(testserver.Site), js(user), js(testserver.AgentToken(user)))
	for _, m := range []string{hello, request} {
		if err := c.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for {
		var e map[string]any
		if err := c.ReadJSON(&e); err != nil {
			t.Fatalf("agent %s: %v", user, err)
		}
		if e["id"] == 2.0 {
			return e
		}
	}
}

// handshakeStatus is the HTTP status of a WebSocket upgrade to gw with
// the given Origin.
func handshakeStatus(t *testing.T, gw, origin string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+gw+"/ws", nil)
	for k, val := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": origin} {
		req.Header.Set(k, val)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// widgetRouting drives the widget through the conversation states of the
// CS contract with a scripted gateway: queued with a position that moves,
// assigned (the agent's name), a dropped connection (reconnecting), closed
// by the visitor, the rating prompt, a new conversation.
func widgetRouting(t *testing.T, d *driver) {
	s := newScripted(t)
	site := newDemoSite(t)
	site.gateway(t, s.url)
	const v = "visitor"
	openPage(d, v, site.URL+"/demo/")
	d.wait(v, w(`$("button.l")`))
	d.do("click", v, map[string]any{"selector": "button.l"})
	d.wait(v, w(`$(".f textarea") && r.activeElement == $(".f textarea")`))
	// No conversation is opened before the visitor writes.
	s.none(300 * time.Millisecond)
	d.do("type", v, map[string]any{"text": "Where is my order?"})
	d.do("press", v, map[string]any{"key": "Enter"})

	p := s.accept()
	user := p.hello()
	o := p.expect("open")
	p.write(`{"type":"joined","id":%d,"conversation":"c1","state":"queued","group":"sales","position":3}`, o.ID)
	snd := p.expect("send")
	p.write(`{"type":"ack","id":%d,"conversation":"c1","seq":1,"client_msg_id":"%s","ts":1795000000000}`, snd.ID, snd.ClientMsgID)
	const notice = `($(".n").hidden ? "" : $(".n").textContent)`
	d.wait(v, w(notice+` == "You are number 3 in the queue"`))
	p.write(`{"type":"event","conversation":"c1","event":"queue","position":1}`)
	d.wait(v, w(notice+` == "You are number 1 in the queue"`))
	shot(t, d, v, "queue", true)

	// Assigned: the agent's name in the header, on the system line and on
	// the agent's messages.
	p.write(`{"type":"message","conversation":"c1","seq":2,"sender":"s:system","kind":"event","body":%s,"ts":1795000001000}`, js(`{"type":"assigned","agent":"alice","name":"Alice Chen"}`))
	p.write(`{"type":"message","conversation":"c1","seq":3,"sender":"a:alice","body":"Hello, I am Alice. Let me check.","ts":1795000002000}`)
	d.wait(v, w(notice+` == "" && $(".hs").textContent == "Alice Chen" && $$(".sys").some(e => e.textContent == "Alice Chen joined the conversation") && $(".m.them .who")?.textContent == "Alice Chen" && !$(".hd .end").hidden`))
	var st map[string]any
	d.eval(v, "Kefu.state()", &st)
	if st["state"] != "open" || st["agent"] != "alice" || st["name"] != "Alice Chen" || st["position"] != nil {
		t.Fatalf("Kefu.state() = %v", st)
	}
	shot(t, d, v, "agent", true)

	// The connection drops: "Reconnecting…" until the conversation is
	// resumed from its cursor.
	p.c.Close()
	d.wait(v, w(notice+` == "Reconnecting…"`))
	p = s.accept()
	p.hello()
	if o = p.expect("open"); o.Conversation != "c1" || o.Seq != 3 {
		t.Fatalf("resume %+v, want c1 after 3", o)
	}
	p.write(`{"type":"joined","id":%d,"conversation":"c1","seq":3,"state":"open","agent":"alice"}`, o.ID)
	// The widget fetches the history it has not shown (none here).
	if r := p.expect("replay"); r.Conversation != "c1" {
		t.Fatalf("replay %+v", r)
	} else {
		p.write(`{"type":"replay_end","id":%d,"conversation":"c1","seq":3}`, r.ID)
	}
	d.wait(v, w(notice+` == "" && $(".hs").textContent == "Alice Chen"`))

	// The visitor ends the conversation: CLOSE, then the closed system
	// message; the rating prompt replaces the composer and takes the focus.
	d.do("click", v, map[string]any{"selector": ".hd .end"})
	c := p.expect("close")
	if c.Conversation != "c1" {
		t.Fatalf("close %+v", c)
	}
	p.write(`{"type":"ok","id":%d,"conversation":"c1"}`, c.ID)
	p.write(`{"type":"message","conversation":"c1","seq":4,"sender":"s:system","kind":"event","body":%s,"ts":1795000003000}`, js(`{"type":"closed","by":"v:`+user+`"}`))
	d.wait(v, w(`$(".f").hidden && !$(".rs").hidden && r.activeElement == $(".rs input[value='1']") && $$(".sys").some(e => e.textContent == "The conversation was closed")`))
	d.do("click", v, map[string]any{"selector": ".rs .st label:nth-child(4)"})
	d.do("click", v, map[string]any{"selector": ".rs textarea"})
	d.do("type", v, map[string]any{"text": "Quick and helpful"})
	d.wait(v, w(`$$(".st label.on").length == 4`))
	shot(t, d, v, "rating", true)
	d.do("click", v, map[string]any{"selector": ".rs .pb"})
	rt := p.expect("rate")
	var rate struct {
		Conversation, Body string
		Rating             int
	}
	json.Unmarshal([]byte(rt.raw), &rate)
	if rate.Conversation != "c1" || rate.Rating != 4 || rate.Body != "Quick and helpful" {
		t.Fatalf("rate %s", rt.raw)
	}
	p.write(`{"type":"ok","id":%d,"conversation":"c1"}`, rt.ID)
	d.wait(v, w(`$(".rs").hidden && !$(".dn").hidden && $(".dn p").textContent == "Thank you for your feedback!" && r.activeElement == $(".dn button")`))

	// A new conversation: OPEN without an id; the log starts again.
	d.do("press", v, map[string]any{"key": "Enter"})
	if o = p.expect("open"); o.Conversation != "" {
		t.Fatalf("new conversation: open %+v", o)
	}
	p.write(`{"type":"joined","id":%d,"conversation":"c2","state":"queued","position":1}`, o.ID)
	d.wait(v, w(`!$(".f").hidden && $(".dn").hidden && $$(".g li").length == 1 && $(".gr") && `+notice+` == "You are number 1 in the queue" && Kefu.conversation() == "c2"`))

	// Kefu.init again (after a sign-in, say): one widget, with the new
	// options, open as it was.
	var hosts int
	d.eval(v, `Kefu.init({endpoint: `+js(s.url)+`, site: "demo", widget: {position: "left", title: "Help"}}) && document.querySelectorAll("#kefu-widget").length`, &hosts)
	if hosts != 1 {
		t.Fatalf("%d widgets after a second init", hosts)
	}
	d.wait(v, w(`$("button.l.left") && !$(".p").hidden && $(".p.left") && $("#kt").textContent == "Help"`))
	noPageErrors(t, d, v)
}
