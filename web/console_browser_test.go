//go:build unix

package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/internal/testserver"
	pb "github.com/kefu-im/kefu/proto"
	kefu "github.com/kefu-im/kefu/sdk/go"
)

// consoleSite is the console's origin as cmd/kefu lays it out: the
// console at /console/ (NewConsole), and /api/ and /files/ passed to the
// kefu HTTP side, whose address changes when the server restarts (point).
type consoleSite struct {
	*httptest.Server
	console atomic.Pointer[Console]
	kefu    atomic.Pointer[url.URL]
	// out carries the proxied requests; its idle connections are closed
	// before kefu stops, which would otherwise wait for them.
	out *http.Transport
}

func startConsoleSite(t *testing.T) *consoleSite {
	s := &consoleSite{out: http.DefaultTransport.(*http.Transport).Clone()}
	proxy := &httputil.ReverseProxy{Transport: s.out, Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(s.kefu.Load())
		r.Out.Host = r.In.Host // the API sees the console's origin, as behind one listener
	}}
	mux := http.NewServeMux()
	mux.Handle("GET /console/", http.StripPrefix("/console", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.console.Load().ServeHTTP(w, r)
	})))
	mux.Handle("/api/", proxy)
	mux.Handle("/files/", proxy)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// point sends the API paths to srv and makes the console connect to its
// gateway (the ":PORT" form: this page's host on the gateway's port).
func (s *consoleSite) point(t *testing.T, srv *testserver.Server) {
	t.Helper()
	u, err := url.Parse(srv.HTTPURL())
	if err != nil {
		t.Fatal(err)
	}
	s.kefu.Store(u)
	_, port, _ := strings.Cut(srv.Addr(), ":")
	c, err := NewConsole(ConsoleOptions{WebSocket: ":" + port})
	if err != nil {
		t.Fatal(err)
	}
	s.console.Store(c)
}

// dialVisitor connects a visitor with the Go SDK (the agent type of
// browser_test.go drives any participant), resuming cursors.
func dialVisitor(t *testing.T, srv *testserver.Server, user string, cursors map[string]uint64) *agent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := kefu.Dial(ctx, kefu.Options{Addr: srv.WSURL(), Site: testserver.Site, User: user, Cursors: cursors})
	if err != nil {
		t.Fatalf("visitor dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &agent{t: t, c: c}
}

// until collects v's pushed envelopes until one satisfies want, and
// returns them all (the match last).
func (a *agent) until(what string, want func(e *pb.Envelope) bool) []*pb.Envelope {
	a.t.Helper()
	var seen []*pb.Envelope
	timeout := time.After(15 * time.Second)
	for {
		select {
		case e, ok := <-a.c.Messages():
			if !ok {
				a.t.Fatalf("connection ended waiting for %s: %v", what, a.c.Err())
			}
			seen = append(seen, e)
			if want(e) {
				return seen
			}
		case <-timeout:
			a.t.Fatalf("no %s within 15s; got %v", what, seen)
		}
	}
}

// Console page scripts.
const (
	jsSeqs   = `[...document.querySelectorAll("#msgs li[data-seq]")].map(li => +li.dataset.seq)`
	jsBodies = `[...document.querySelectorAll("#msgs li.msg[data-seq] .body")].map(b => b.textContent)`
	// jsSend types t into the composer and submits it.
	jsSend = `(t => { const x = document.querySelector("#text"); x.value = t; x.dispatchEvent(new Event("input")); document.querySelector("#composer").requestSubmit(); return true })`
	// jsMarkup counts elements a payload could have created, plus 100 if one ran.
	jsMarkup = `document.querySelectorAll("#msgs img, #msgs script, #msgs svg, #msgs iframe, #app script").length + (window.__xss === undefined ? 0 : 100)`
)

// await polls the console page until expr is truthy, for up to ms, and
// fails with what the page shows otherwise.
func await(d *driver, page string, ms int, expr string) {
	d.t.Helper()
	end := time.Now().Add(time.Duration(ms) * time.Millisecond)
	for {
		var ok bool
		d.eval(page, "!!("+expr+")", &ok)
		if ok {
			return
		}
		if time.Now().After(end) {
			var shows string
			d.eval(page, `document.querySelector("#app").innerText`, &shows)
			d.t.Fatalf("console: no %s within %dms; the page shows:\n%s\nlogs: %q", expr, ms, shows, d.logs(page))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsoleBrowser runs the agent console in headless Chromium against
// a real kefu with routing on: the page's security headers and CSP
// (Trusted Types included) and the login form; then an agent session
// (an HMAC agent token: the REST login is TestConsoleAdminBrowser's until
// internal/server mounts engine/api) that sets itself away, sees a
// visitor's conversation (the Go SDK) wait in the queue, claims it, reads
// it (XSS payloads, an image and a hostile file message shown as text),
// answers; typing and read receipts both ways; unread counts; a server
// restart mid-conversation after which both sides carry on with nothing
// lost or doubled; and close. Screenshots go to the test's artifact
// directory (go test -artifacts).
func TestConsoleBrowser(t *testing.T) {
	dir := needNode(t)
	chromium := needChromium(t)
	shots := t.ArtifactDir()
	t.Logf("screenshots in %s", shots)
	site := startConsoleSite(t)
	data := t.TempDir()
	srv := startKefu(t, data, site)
	gw := srv.Addr()
	aliceID, alicePassword := newAgent(t, srv, admin(t, srv), "alice@example.com", "Alice")
	alice := "a:" + aliceID
	page := site.URL + "/console/"

	// 1. The page's headers: strict CSP, no framing, no sniffing.
	res, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Security-Policy") != ConsoleCSP || res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("console page: %d %v", res.StatusCode, res.Header)
	}
	for _, want := range []string{"default-src 'self'", "connect-src 'self' ws: wss:", "img-src 'self' data: blob:", "frame-ancestors 'none'"} {
		if !strings.Contains(ConsoleCSP, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}

	// 2. The login form; a wrong password is refused with a message. The
	// page enforces Trusted Types: no string ever becomes markup.
	d := startDriver(t, dir, chromium)
	const ag = "agent"
	openConsole(d, site, ag)
	var sink string
	d.eval(ag, `(() => { try { document.body.innerHTML = "<b>x</b>"; return "assigned" } catch (e) { return e.name } })()`, &sink)
	if sink != "TypeError" {
		t.Fatalf("innerHTML assignment: %s, want a Trusted Types TypeError", sink)
	}
	probed := len(d.logs(ag)) // the probe's own report is the only violation allowed
	login(d, ag, "alice@example.com", "wrong password")
	await(d, ag, 10000, `document.querySelector("#login-error").textContent != ""`)
	d.shot(ag, filepath.Join(shots, "console-login.png"))

	// 3. Alice logs in with the password the admin got for her. The
	// session is kept in sessionStorage, never in a URL; the console
	// connects with it. She sets herself away, so that what comes next
	// waits in the queue.
	login(d, ag, "alice@example.com", alicePassword)
	await(d, ag, 10000, `document.querySelector("#conn.online") && !document.querySelector("#presence").disabled && document.querySelector("#me").textContent.startsWith("Alice")`)
	var href string
	d.eval(ag, "location.href", &href)
	if strings.Contains(href, "token") || strings.Contains(href, alicePassword) {
		t.Fatalf("credentials in the URL: %s", href)
	}
	d.eval(ag, `(p => { p.value = "away"; p.dispatchEvent(new Event("change")); return true })(document.querySelector("#presence"))`, nil)
	await(d, ag, 10000, `document.querySelector("#presence").dataset.status == "away"`)

	// 4. A visitor writes, XSS payloads included. The conversation shows
	// in the queue with its waiting time; the agent claims it, finds it in
	// "my conversations" with its unread count and last message, opens
	// it and sees everything as text; reading it sends the visitor a read
	// receipt.
	v := dialVisitor(t, srv, "v-console-1", nil)
	op, err := v.c.Open(v.ctx(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	conv := op.End.Conversation
	payloads := []string{
		`<img src=x onerror="window.__xss=1">`,
		`<script>window.__xss=2</script>`,
		`<svg onload="window.__xss=3"></svg>`,
		`"><iframe src="javascript:window.__xss=4"></iframe>`,
	}
	want := append([]string{"Hello, I need help with order 18230"}, payloads...)
	var last uint64
	for _, b := range want {
		last = v.send(conv, b)
	}
	inQueue := `document.querySelector('#queue-list li[data-conv="` + conv + `"]')`
	await(d, ag, 10000, inQueue+` && `+inQueue+`.querySelector(".wait").textContent.endsWith("s")`)
	d.shot(ag, filepath.Join(shots, "console-queue.png"))
	d.eval(ag, inQueue+`.querySelector("button.claim").click()`, nil)
	mine := `document.querySelector('#mine-list li[data-conv="` + conv + `"]')`
	await(d, ag, 10000, `location.hash == "#/c/`+conv+`" && `+mine+` && !`+inQueue)
	d.eval(ag, `(p => { p.value = "online"; p.dispatchEvent(new Event("change")); return true })(document.querySelector("#presence"))`, nil)
	await(d, ag, 10000, jsBodies+`.length == 5`)
	var shown []string
	d.eval(ag, jsBodies, &shown)
	if !slices.Equal(shown, want) {
		t.Fatalf("console shows %q, want %q", shown, want)
	}
	var markup int
	d.eval(ag, jsMarkup, &markup)
	if markup != 0 {
		t.Fatalf("a payload became markup or ran (%d)", markup)
	}
	var preview string
	d.eval(ag, mine+`.querySelector(".preview").textContent`, &preview)
	if preview != payloads[3] {
		t.Errorf("last message in the list: %q", preview)
	}
	// An image and a file message (CS.md uploads: a JSON body): the image
	// shows from the server's /files/, a file link never gets a script URL.
	img := `{"url":"/files/2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae.png","name":"photo <b>.png","size":2048,"type":"image/png"}`
	bad := `{"url":"javascript:window.__xss=5","name":"<img src=x onerror=window.__xss=6>.pdf","size":10,"type":"application/pdf"}`
	for _, m := range []struct {
		kind pb.Kind
		body string
	}{{pb.Kind_KIND_IMAGE, img}, {pb.Kind_KIND_FILE, bad}} {
		p, err := v.c.Request(v.ctx(), &pb.Envelope{Type: pb.Type_TYPE_SEND, Conversation: conv, ClientMsgId: v.c.NewClientMsgID(), Kind: m.kind, Body: m.body})
		if err != nil {
			t.Fatal(err)
		}
		last = p.End.Seq
		want = append(want, m.body)
	}
	await(d, ag, 10000, fmt.Sprintf(`document.querySelector('#msgs li[data-seq="%d"]')`, last))
	var shownImg []string
	d.eval(ag, `[...document.querySelectorAll("#msgs li.msg img")].map(i => i.getAttribute("src") + "|" + i.alt).concat([...document.querySelectorAll("#msgs a")].map(a => a.href))`, &shownImg)
	file := "/files/2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae.png"
	if len(shownImg) != 2 || shownImg[0] != site.URL+file+"|photo <b>.png" || shownImg[1] != site.URL+file {
		t.Errorf("image message shown as %q", shownImg)
	}
	d.eval(ag, jsMarkup, &markup)
	if markup != 1 { // the one image
		t.Fatalf("a file message became markup or ran (%d)", markup)
	}
	v.until(fmt.Sprintf("read %d", last), func(e *pb.Envelope) bool {
		return e.Type == pb.Type_TYPE_EVENT && e.Event == "read" && e.Seq == last && e.Sender == alice
	})
	await(d, ag, 10000, `!`+mine+`.querySelector(".unread").textContent`)
	d.shot(ag, filepath.Join(shots, "console-xss.png"))

	// 5. The agent types and answers; the visitor sees the typing event
	// and the answer. The visitor types and reads; the console shows both.
	// A message arriving while another conversation is on screen counts
	// as unread.
	d.eval(ag, jsSend+`("Hi! I'm Alice. Let me check order 18230.")`, nil)
	got := v.until("the answer", func(e *pb.Envelope) bool { return e.Type == pb.Type_TYPE_MESSAGE && e.Sender == alice })
	answer := got[len(got)-1]
	if answer.Body != "Hi! I'm Alice. Let me check order 18230." || answer.Seq <= last {
		t.Fatalf("visitor got %v", answer)
	}
	if !slices.ContainsFunc(got, func(e *pb.Envelope) bool { return e.Type == pb.Type_TYPE_EVENT && e.Event == "typing" }) {
		t.Errorf("visitor saw no typing event before the answer: %v", got)
	}
	at := func(seq uint64) string { return fmt.Sprintf(`document.querySelector('#msgs li[data-seq="%d"]')`, seq) }
	await(d, ag, 10000, at(answer.Seq)+` && `+at(answer.Seq)+`.matches(".mine") && !document.querySelector("#msgs li.pending")`)
	v.event(conv, "typing", 0)
	await(d, ag, 10000, `document.querySelector("#typing").textContent.includes("is typing")`)
	v.event(conv, "read", answer.Seq)
	await(d, ag, 10000, at(answer.Seq)+`.querySelector(".tick.read")`)
	d.shot(ag, filepath.Join(shots, "console-chat.png"))
	d.eval(ag, `location.hash = "#/"`, nil)
	await(d, ag, 10000, `document.querySelector("#chat.empty")`)
	seq := v.send(conv, "One more question")
	await(d, ag, 10000, mine+`.querySelector(".unread") && `+mine+`.querySelector(".unread").textContent == "1"`)
	d.eval(ag, `location.hash = "#/c/`+conv+`"`, nil)
	v.until(fmt.Sprintf("read %d", seq), func(e *pb.Envelope) bool { return e.Type == pb.Type_TYPE_EVENT && e.Event == "read" && e.Seq >= seq })

	// 6. The server stops mid-conversation. The console goes offline and
	// queues what the agent writes meanwhile; the server restarts on the
	// same data and gateway port; the console resumes from its cursor and
	// sends the queued message once; the visitor resumes from its own.
	site.out.CloseIdleConnections()
	srv.Stop()
	await(d, ag, 10000, `document.querySelector("#conn.offline")`)
	<-v.c.Done()
	d.eval(ag, jsSend+`("Sent while the server was down")`, nil)
	await(d, ag, 10000, `document.querySelector("#msgs li.pending")`)
	d.shot(ag, filepath.Join(shots, "console-offline.png"))
	srv = startKefu(t, data, site, pinGateway(gw))
	await(d, ag, 30000, `document.querySelector("#conn.online") && !document.querySelector("#msgs li.pending")`)
	v = dialVisitor(t, srv, "v-console-1", map[string]uint64{conv: seq})
	got = v.until("the message sent while down", func(e *pb.Envelope) bool { return e.Type == pb.Type_TYPE_MESSAGE && e.Sender == alice })
	down := got[len(got)-1]
	if down.Body != "Sent while the server was down" {
		t.Fatalf("visitor resumed with %v", down)
	}
	await(d, ag, 10000, at(down.Seq)+` && `+at(down.Seq)+`.matches(".mine")`)
	after := v.send(conv, "Thanks, I am still here")
	await(d, ag, 10000, at(after))

	// Everything once, in order, on both sides: the console shows exactly
	// the conversation's log.
	log, err := v.c.Replay(v.ctx(), conv, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var logSeqs []int
	var logTexts, display []string
	for _, m := range log.Messages {
		logSeqs = append(logSeqs, int(m.Seq))
		if m.Kind != pb.Kind_KIND_EVENT {
			logTexts = append(logTexts, m.Body)
			if m.Body == img {
				display = append(display, "photo <b>.png · 2.0 KiB")
			} else {
				display = append(display, m.Body)
			}
		}
	}
	all := append(append([]string{}, want...), "Hi! I'm Alice. Let me check order 18230.", "One more question", "Sent while the server was down", "Thanks, I am still here")
	if !slices.Equal(logTexts, all) || log.End.More {
		t.Fatalf("conversation log %q, want %q", logTexts, all)
	}
	var seqs []int
	d.eval(ag, jsSeqs, &seqs)
	d.eval(ag, jsBodies, &shown)
	if !slices.Equal(seqs, logSeqs) || !slices.Equal(shown, display) {
		t.Fatalf("console after the restart: seqs %v, bodies %q; the log has %v, %q", seqs, shown, logSeqs, display)
	}
	await(d, ag, 10000, `document.querySelector("#typing").textContent == ""`)
	d.shot(ag, filepath.Join(shots, "console-restarted.png"))

	// 7. The agent closes the conversation (the button asks twice): the
	// visitor gets the stored system message, the console shows it closed
	// and drops it from "my conversations".
	d.eval(ag, `(b => { b.click(); b.click(); return true })(document.querySelector("#close-conv"))`, nil)
	got = v.until("closed", func(e *pb.Envelope) bool { return e.Type == pb.Type_TYPE_MESSAGE && e.Kind == pb.Kind_KIND_EVENT })
	if m := got[len(got)-1]; !strings.Contains(m.Body, `"type":"closed"`) || !strings.Contains(m.Body, `"by":"`+alice+`"`) {
		t.Fatalf("visitor got %v", m)
	}
	await(d, ag, 10000, `document.querySelector("#chat-state").textContent == "closed" && document.querySelector("#chat.closed") && !`+mine+` && [...document.querySelectorAll("#msgs li.sys")].pop().textContent.startsWith("Closed by")`)
	checkLogs(d, ag, probed)
}

// The test site's admin, created with the accounts package on the running
// server; agents are created through the REST API as this admin.
const adminEmail, adminPassword = "admin@example.com", "correct horse battery staple"

// startKefu starts kefu on data with routing and the console's origin
// allowed, and points the console site at it.
func startKefu(t *testing.T, data string, site *consoleSite, opts ...testserver.Option) *testserver.Server {
	t.Helper()
	srv := testserver.StartAt(t, data, append([]testserver.Option{testserver.WithAllowedOrigins(site.URL), testserver.WithRouting()}, opts...)...)
	site.point(t, srv)
	t.Cleanup(site.out.CloseIdleConnections) // before srv stops
	return srv
}

// admin creates the test site in the server's directory with its admin
// and returns the admin's session token.
func admin(t *testing.T, srv *testserver.Server) string {
	t.Helper()
	if _, err := srv.Accounts.CreateSite(testserver.Site, nil, accounts.Settings{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Accounts.CreateAgent(testserver.Site, accounts.AgentSpec{Email: adminEmail, Name: "Ada Admin", Role: accounts.RoleAdmin, Password: adminPassword}); err != nil {
		t.Fatal(err)
	}
	var r struct{ Token string }
	rest(t, srv, "", "POST", "/api/v1/login", map[string]any{"site": testserver.Site, "email": adminEmail, "password": adminPassword}, &r)
	return r.Token
}

// rest calls the REST API with a bearer token and decodes the answer into out.
func rest(t *testing.T, srv *testserver.Server, token, method, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, srv.HTTPURL()+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
}

// newAgent creates an agent in group "default" through the REST API and
// returns its id and one-time password.
func newAgent(t *testing.T, srv *testserver.Server, token, email, name string) (id, password string) {
	t.Helper()
	var r struct {
		Agent    struct{ ID string }
		Password string
	}
	rest(t, srv, token, "POST", "/api/v1/agents", map[string]any{"email": email, "name": name, "role": "agent", "groups": []string{"default"}, "capacity": 5, "weight": 1}, &r)
	return r.Agent.ID, r.Password
}

// openConsole opens the console in a new browser context named page.
func openConsole(d *driver, site *consoleSite, page string) {
	d.t.Helper()
	d.do("page", page, map[string]any{"url": site.URL + "/console/", "width": 1280, "height": 800})
	await(d, page, 10000, `document.querySelector("#login #site")`)
}

// checkLogs fails on page errors and CSP or Trusted Types violations in
// page's log from entry from on.
func checkLogs(d *driver, page string, from int) {
	d.t.Helper()
	for _, l := range d.logs(page)[from:] {
		if strings.HasPrefix(l, "pageerror") || strings.Contains(l, "Content Security Policy") || strings.Contains(l, "TrustedHTML") {
			d.t.Errorf("%s page: %s", page, l)
		}
	}
}

// login fills the console's login form.
func login(d *driver, page, email, password string) {
	d.t.Helper()
	d.eval(page, `(() => { const f = document.querySelector("#login"); f.site.value = "demo"; f.email.value = `+js(email)+`; f.password.value = `+js(password)+`; f.requestSubmit(); return true })()`, nil)
}

// TestConsoleAdminBrowser logs in through the console's form as an admin
// created with the accounts package on a real kefu, and uses every admin
// page against its REST API: an agent created with its one-time password shown once
// (who then logs in with it), edited, given a new password and deleted; a
// group with tags; a canned reply; the site's origins and settings and a
// secret rotation; a webhook endpoint with its signing secret.
func TestConsoleAdminBrowser(t *testing.T) {
	dir := needNode(t)
	chromium := needChromium(t)
	shots := t.ArtifactDir()
	site := startConsoleSite(t)
	srv := startKefu(t, t.TempDir(), site)
	admin(t, srv)
	d := startDriver(t, dir, chromium)
	const p = "admin"
	openConsole(d, site, p)
	login(d, p, adminEmail, "not the password")
	await(d, p, 10000, `document.querySelector("#login-error").textContent != ""`)
	login(d, p, adminEmail, adminPassword)
	await(d, p, 10000, `document.querySelector("#nav-admin") && document.querySelector("#me").textContent.startsWith("Ada Admin")`)
	var stored string
	d.eval(p, `sessionStorage.getItem("kefu-console") + location.href`, &stored)
	if !strings.Contains(stored, `"role":"admin"`) || strings.Contains(stored, adminPassword) {
		t.Fatalf("session kept: %s", stored)
	}

	// Agents: create (the one-time password is shown once), who logs in
	// with it; edit; new password; delete.
	d.eval(p, `location.hash = "#/admin/agents"`, nil)
	await(d, p, 10000, `document.querySelector("#agents")`)
	d.eval(p, `(() => { const f = document.querySelector("#new-agent"); f.email.value = "bob@example.com"; f.name.value = "Bob"; f.groups.value = "sales, support"; f.requestSubmit(); return true })()`, nil)
	await(d, p, 10000, `document.querySelector("#otp-value") && document.querySelectorAll("#agents tbody tr").length == 2`)
	d.shot(p, filepath.Join(shots, "console-admin-agents.png"))
	var otp string
	d.eval(p, `document.querySelector("#otp-value").textContent`, &otp)
	const b = "bob"
	openConsole(d, site, b)
	login(d, b, "bob@example.com", otp)
	await(d, b, 10000, `document.querySelector("#me")?.textContent.startsWith("Bob") && !document.querySelector("#nav-admin")`)
	d.eval(p, `window.bob = () => [...document.querySelectorAll("#agents tbody tr")].find(tr => tr.textContent.includes("bob@")); true`, nil)
	d.eval(p, `bob().querySelector(".edit").click()`, nil)
	await(d, p, 5000, `document.querySelector("#edit-agent")`)
	d.eval(p, `(() => { const f = document.querySelector("#edit-agent"); f.name.value = "Bobby"; f.capacity.value = "3"; f.requestSubmit(); return true })()`, nil)
	await(d, p, 5000, `bob() && bob().cells[0].textContent == "Bobby" && bob().cells[4].textContent == "3"`)
	d.eval(p, `bob().querySelector(".password").click()`, nil)
	await(d, p, 5000, `document.querySelector("#otp strong")?.textContent.startsWith("New password for bob@")`)
	var otp2 string
	d.eval(p, `document.querySelector("#otp-value").textContent`, &otp2)
	if otp2 == otp || len(otp2) < 16 {
		t.Fatalf("new password %q (first %q)", otp2, otp)
	}
	d.eval(p, `(b => { b.click(); b.click(); return true })(bob().querySelector("button.danger"))`, nil)
	await(d, p, 5000, `!bob() && document.querySelectorAll("#agents tbody tr").length == 1`)

	// Groups, canned replies, site, webhooks.
	d.eval(p, `location.hash = "#/admin/groups"`, nil)
	await(d, p, 5000, `document.querySelector("#new-group")`)
	d.eval(p, `(() => { const f = document.querySelector("#new-group"); f.id.value = "sales"; f.tags.value = "vip, de"; f.requestSubmit(); return true })()`, nil)
	await(d, p, 5000, `document.querySelector('#groups tr[data-group="sales"] input')?.value == "vip, de"`)
	d.shot(p, filepath.Join(shots, "console-admin-groups.png"))
	d.eval(p, `location.hash = "#/admin/canned"`, nil)
	await(d, p, 5000, `document.querySelector("#canned-form")`)
	d.eval(p, `(() => { const f = document.querySelector("#canned-form"); f.shortcut.value = "hello"; f.title.value = "Greeting"; f.body.value = "Hello! How can I help you today?"; f.requestSubmit(); return true })()`, nil)
	await(d, p, 5000, `document.querySelectorAll("#canned tbody tr[data-canned]").length == 1`)
	d.shot(p, filepath.Join(shots, "console-admin-canned.png"))
	d.eval(p, `location.hash = "#/admin/site"`, nil)
	await(d, p, 5000, `document.querySelector("#site-key")?.textContent == "demo"`)
	d.eval(p, `(() => { const f = document.querySelector("#site-form"); f.origins.value = "https://shop.example.com\nhttps://www.example.com"; f.queue_message.value = "Please wait a moment"; f.requestSubmit(); return true })()`, nil)
	await(d, p, 5000, `document.querySelector("#toast.on") && document.querySelector("#toast").textContent == "Saved"`)
	d.eval(p, `(b => { b.click(); b.click(); return true })(document.querySelector("#rotate"))`, nil)
	await(d, p, 5000, `document.querySelector("#otp-value")?.textContent.length == 64`)
	d.eval(p, `location.hash = "#/admin/agents"`, nil)
	d.eval(p, `location.hash = "#/admin/site"`, nil)
	await(d, p, 5000, `document.querySelector("#site-form")?.origins.value == "https://shop.example.com\nhttps://www.example.com"`)
	d.shot(p, filepath.Join(shots, "console-admin-site.png"))
	d.eval(p, `location.hash = "#/admin/webhooks"`, nil)
	await(d, p, 5000, `document.querySelector("#new-webhook")`)
	d.eval(p, `(() => { const f = document.querySelector("#new-webhook"); f.url.value = "https://hooks.example.com/kefu"; f.requestSubmit(); return true })()`, nil)
	await(d, p, 5000, `document.querySelectorAll("#webhooks tbody tr[data-webhook]").length == 1 && document.querySelector("#otp-value")?.textContent.length == 64`)
	d.shot(p, filepath.Join(shots, "console-admin-webhooks.png"))

	// Log out: the session ends on the server too.
	d.eval(p, `document.querySelector("#logout").click()`, nil)
	await(d, p, 5000, `document.querySelector("#login") && sessionStorage.getItem("kefu-console") === null`)
	checkLogs(d, p, 0)
	checkLogs(d, b, 0)
}

// TestConsoleDeskBrowser runs two agents' consoles (created through the
// REST API) against a real kefu: a visitor's long conversation waits in the queue
// until Carol logs in (through the form, her session token then opening
// the WebSocket) and is given to her; she pages back through its history
// (REST), answers with a canned reply (/hello, Tab), sends an image
// (upload, then an image message the visitor gets and the console shows
// under its CSP), sees the visitor panel, and transfers the conversation
// to Dave, whose console receives it.
func TestConsoleDeskBrowser(t *testing.T) {
	dir := needNode(t)
	chromium := needChromium(t)
	shots := t.ArtifactDir()
	site := startConsoleSite(t)
	srv := startKefu(t, t.TempDir(), site)
	token := admin(t, srv)
	carolID, carolPassword := newAgent(t, srv, token, "carol@example.com", "Carol")
	daveID, davePassword := newAgent(t, srv, token, "dave@example.com", "Dave")
	rest(t, srv, token, "POST", "/api/v1/canned", map[string]any{"shortcut": "hello", "title": "Greeting", "body": "Hello! How can I help you today?"}, nil)

	// A visitor writes 230 messages while no agent is online.
	v := dialVisitor(t, srv, "v-desk-1", nil)
	vc := v.c
	op, err := vc.Open(v.ctx(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	conv := op.End.Conversation
	const n = 230
	for i := 1; i <= n; i++ {
		v.send(conv, fmt.Sprintf("message %03d", i))
	}

	// Carol logs in: the conversation is hers, with its unread count.
	d := startDriver(t, dir, chromium)
	const c = "carol"
	openConsole(d, site, c)
	login(d, c, "carol@example.com", carolPassword)
	mine := `document.querySelector('#mine-list li[data-conv="` + conv + `"]')`
	await(d, c, 10000, `document.querySelector("#conn.online") && `+mine+`?.querySelector(".unread").textContent > 0`)
	v.until("assigned", func(e *pb.Envelope) bool {
		return e.Type == pb.Type_TYPE_MESSAGE && strings.Contains(e.Body, `"assigned"`)
	})

	// History: the newest page first, older ones through REST.
	d.eval(c, `location.hash = "#/c/`+conv+`"`, nil)
	await(d, c, 10000, jsBodies+`.includes("message 230") && !document.querySelector("#older").hidden`)
	var first []string
	d.eval(c, jsBodies+`.slice(0, 1)`, &first)
	if len(first) != 1 || first[0] == "message 001" {
		t.Fatalf("the first page starts at %q: the whole history was loaded at once", first)
	}
	for i := 0; i < 10; i++ {
		var done bool
		d.eval(c, `document.querySelector("#older").hidden || (document.querySelector("#older").click(), false)`, &done)
		if done {
			break
		}
		await(d, c, 10000, `!document.querySelector("#older").disabled`)
	}
	var seqs []int
	d.eval(c, jsSeqs, &seqs)
	log, err := vc.Replay(v.ctx(), conv, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var logSeqs []int
	for _, m := range log.Messages {
		logSeqs = append(logSeqs, int(m.Seq))
	}
	if !slices.Equal(seqs, logSeqs) {
		t.Fatalf("console holds seqs %v, the log %v", seqs, logSeqs)
	}
	d.eval(c, `document.querySelector("#scroll").scrollTop = 0`, nil)
	d.shot(c, filepath.Join(shots, "console-history.png"))

	// A canned reply: /hello, Tab, Enter.
	d.eval(c, `(x => { x.value = "/hello"; x.dispatchEvent(new Event("input")); return true })(document.querySelector("#text"))`, nil)
	await(d, c, 10000, `!document.querySelector("#canned").hidden && document.querySelector("#canned").textContent.includes("Greeting")`)
	d.shot(c, filepath.Join(shots, "console-canned.png"))
	d.eval(c, `document.querySelector("#text").dispatchEvent(new KeyboardEvent("keydown", {key: "Tab", bubbles: true, cancelable: true}))`, nil)
	await(d, c, 5000, `document.querySelector("#text").value == "Hello! How can I help you today?"`)
	d.eval(c, `document.querySelector("#text").dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true, cancelable: true}))`, nil)
	got := v.until("the canned reply", func(e *pb.Envelope) bool { return e.Type == pb.Type_TYPE_MESSAGE && e.Sender == "a:"+carolID })
	if m := got[len(got)-1]; m.Body != "Hello! How can I help you today?" {
		t.Fatalf("visitor got %v", m)
	}

	// An image: uploaded, sent as an image message, shown from /files/.
	d.eval(c, `(async () => {
		const cv = new OffscreenCanvas(160, 100);
		const g = cv.getContext("2d");
		g.fillStyle = "#2563eb"; g.fillRect(0, 0, 160, 100);
		g.fillStyle = "#fde047"; g.fillRect(20, 20, 120, 60);
		const dt = new DataTransfer();
		dt.items.add(new File([await cv.convertToBlob({type: "image/png"})], "chart.png", {type: "image/png"}));
		const f = document.querySelector("#file");
		f.files = dt.files;
		f.dispatchEvent(new Event("change"));
		return true })()`, nil)
	got = v.until("the image", func(e *pb.Envelope) bool { return e.Type == pb.Type_TYPE_MESSAGE && e.Kind == pb.Kind_KIND_IMAGE })
	var file struct{ URL, Name, Type string }
	if err := json.Unmarshal([]byte(got[len(got)-1].Body), &file); err != nil || !strings.HasPrefix(file.URL, "/files/") || file.Name != "chart.png" || file.Type != "image/png" {
		t.Fatalf("image message %q: %v", got[len(got)-1].Body, err)
	}
	await(d, c, 10000, `[...document.querySelectorAll("#msgs li.msg.mine img")].some(i => i.complete && i.naturalWidth == 160)`)
	d.shot(c, filepath.Join(shots, "console-image.png"))

	// The visitor panel.
	await(d, c, 10000, `document.querySelector("#visitor-info").textContent.includes("v-desk-1") && document.querySelector('#visitor-history a[href="#/c/`+conv+`"]')`)

	// Dave logs in; Carol transfers the conversation to him.
	const dv = "dave"
	openConsole(d, site, dv)
	login(d, dv, "dave@example.com", davePassword)
	await(d, dv, 10000, `document.querySelector("#conn.online")`)
	dave := "a:" + daveID
	await(d, c, 10000, `document.querySelector('#transfer-to option[value="`+dave+`"]')`)
	d.eval(c, `document.querySelector("#transfer-to").value = "`+dave+`"; document.querySelector("#transfer").click()`, nil)
	v.until("transferred", func(e *pb.Envelope) bool {
		return e.Type == pb.Type_TYPE_MESSAGE && strings.Contains(e.Body, `"transferred"`)
	})
	await(d, c, 10000, `!`+mine)
	await(d, dv, 10000, `document.querySelector('#mine-list li[data-conv="`+conv+`"]')`)
	d.eval(dv, `location.hash = "#/c/`+conv+`"`, nil)
	await(d, dv, 10000, `[...document.querySelectorAll("#msgs li.sys")].some(li => li.textContent.startsWith("Transferred from Carol to Dave"))`)
	d.shot(dv, filepath.Join(shots, "console-transferred.png"))
	checkLogs(d, c, 0)
	checkLogs(d, dv, 0)
}
