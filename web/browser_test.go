//go:build unix

package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/engine"
	"github.com/kefu-im/kefu/internal/server"
	"github.com/kefu-im/kefu/internal/testserver"
	pb "github.com/kefu-im/kefu/proto"
	kefu "github.com/kefu-im/kefu/sdk/go"
)

// pageCSP is the test page's policy: no inline script, nothing from
// elsewhere but the gateway's WebSocket. The SDK must work under it.
const pageCSP = "default-src 'self'; connect-src 'self' ws://127.0.0.1:*; img-src 'self'; object-src 'none'; base-uri 'none'"

// pageServer serves the test page (test/page) and the committed SDK build
// under /sdk/ through Handler, as the binary will.
func pageServer(t *testing.T, dir string) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/sdk/", http.StripPrefix("/sdk", NewHandler()))
	files := http.FileServer(http.Dir(filepath.Join(dir, "test", "page")))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", pageCSP)
		w.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(w, r)
	}))
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// pageURL is the test page on base, configured by query parameters.
func pageURL(base string, params ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	return base + "/?" + q.Encode()
}

// agent is a console stand-in: the Go SDK with an agent token. Pushed
// envelopes are read by the test goroutine only.
type agent struct {
	t *testing.T
	c *kefu.Client
}

func dialAgent(t *testing.T, srv *testserver.Server) *agent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := kefu.Dial(ctx, kefu.Options{Addr: srv.WSURL(), Site: testserver.Site, User: "alice", Role: pb.Role_ROLE_AGENT, Token: testserver.AgentToken("alice")})
	if err != nil {
		t.Fatalf("agent dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &agent{t: t, c: c}
}

func (a *agent) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	a.t.Cleanup(cancel)
	return ctx
}

// join joins conv after cursor and returns the missed messages.
func (a *agent) join(conv string, cursor uint64) []*pb.Envelope {
	a.t.Helper()
	p, err := a.c.Join(a.ctx(), conv, cursor)
	if err != nil {
		a.t.Fatalf("agent join: %v", err)
	}
	return p.Messages
}

func (a *agent) send(conv, body string) uint64 {
	a.t.Helper()
	ack, err := a.c.Send(a.ctx(), conv, "", body)
	if err != nil {
		a.t.Fatalf("agent send: %v", err)
	}
	return ack.Seq
}

func (a *agent) event(conv, name string, seq uint64) {
	a.t.Helper()
	if err := a.c.Event(conv, name, seq); err != nil {
		a.t.Fatalf("agent event: %v", err)
	}
}

// next returns the next pushed envelope of type typ, failing on any
// MESSAGE it did not ask for (the visitor must not send twice).
func (a *agent) next(typ pb.Type) *pb.Envelope {
	a.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-a.c.Messages():
			if !ok {
				a.t.Fatalf("agent connection ended: %v", a.c.Err())
			}
			if e.Type == typ {
				return e
			}
			if e.Type == pb.Type_TYPE_MESSAGE {
				a.t.Fatalf("agent got an unexpected message: %v", e)
			}
		case <-timeout:
			a.t.Fatalf("agent: no %v within 10s", typ)
		}
	}
}

// pinGateway makes a restarted server listen where the first one did, so
// that the page's endpoint stays valid.
func pinGateway(addr string) testserver.Option {
	return func(c *server.Config) {
		c.Gateway.Listeners = []engine.Listener{{Addr: addr, Protocol: engine.ProtoAuto, MaxConns: 100000}}
	}
}

// bodies lists the bodies of envelopes.
func bodies(es []*pb.Envelope) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Body)
	}
	return out
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBrowser runs the visitor SDK in headless Chromium against a real
// kefu: chat with an agent (the Go SDK), XSS payloads, a server restart
// with messages sent while it was down and a page reload, a foreign
// origin, and the fallback transport slot. Screenshots go to the test's
// artifact directory (kept with go test -artifacts).
func TestBrowser(t *testing.T) {
	dir := needNode(t)
	chromium := needChromium(t)
	shots := t.ArtifactDir()
	t.Logf("screenshots in %s", shots)
	site := pageServer(t, dir)
	foreign := pageServer(t, dir)
	data := t.TempDir()
	srv := testserver.StartAt(t, data, testserver.WithAllowedOrigins(site.URL))
	gw := srv.Addr()
	d := startDriver(t, dir, chromium)
	page := pageURL(site.URL, "endpoint", srv.WSURL())

	// 1. The visitor opens a conversation and writes; the agent joins,
	// types, answers; typing and read receipts go both ways.
	const v = "visitor"
	d.open(v, page)
	var conv, user string
	d.eval(v, "Kefu.open()", &conv)
	d.eval(v, "Kefu.user()", &user)
	var id1 string
	d.eval(v, `T.send("Hello, is anyone there?")`, &id1)
	d.wait(v, "T.acks.length == 1")
	var esm []any
	d.eval(v, `import("/sdk/kefu.esm.js").then(m => [typeof m.default.init, m.Kefu === m.default, m.default.version])`, &esm)
	if fmt.Sprint(esm) != "[function true 1.0.0]" {
		t.Errorf("ES module build: %v", esm)
	}

	a := dialAgent(t, srv)
	missed := a.join(conv, 0)
	if len(missed) != 1 || missed[0].Seq != 1 || missed[0].Body != "Hello, is anyone there?" || missed[0].ClientMsgId != id1 || missed[0].Sender != "v:"+user {
		t.Fatalf("agent join: %v", missed)
	}
	a.event(conv, "typing", 0)
	d.wait(v, `T.events.some(e => e.event == "typing" && e.sender == "a:alice" && !e.mine)`)
	if seq := a.send(conv, "Hi! I'm Alice. How can I help?"); seq != 2 {
		t.Fatalf("agent reply seq %d, want 2", seq)
	}
	d.wait(v, "T.msgs.length == 1")
	var got []map[string]any
	d.eval(v, "T.msgs", &got)
	if m := got[0]; m["seq"] != 2.0 || m["sender"] != "a:alice" || m["body"] != "Hi! I'm Alice. How can I help?" || m["mine"] != false {
		t.Fatalf("page got %v", got)
	}
	d.eval(v, "Kefu.typing()", nil)
	if e := a.next(pb.Type_TYPE_EVENT); e.Event != "typing" || e.Sender != "v:"+user {
		t.Fatalf("agent got %v, want typing", e)
	}
	d.eval(v, "Kefu.read()", nil)
	if e := a.next(pb.Type_TYPE_EVENT); e.Event != "read" || e.Seq != 2 {
		t.Fatalf("agent got %v, want read 2", e)
	}
	a.event(conv, "read", 1)
	d.wait(v, `T.events.some(e => e.event == "read" && e.seq == 1)`)
	d.shot(v, filepath.Join(shots, "1-chat.png"))

	// 2. XSS payloads from the agent reach onMessage as text and the page
	// (textContent) shows them as text: no element is created, nothing runs.
	payloads := []string{
		`<img src=x onerror="window.__xss=1">`,
		`<script>window.__xss=2</script>`,
		`<svg onload="window.__xss=3"></svg>`,
		`"><iframe src="javascript:window.__xss=4"></iframe>`,
	}
	for _, p := range payloads {
		a.send(conv, p)
	}
	d.wait(v, "T.msgs.length == 5")
	var shown, received []string
	d.eval(v, `[...document.querySelectorAll("#log li.them")].slice(-4).map(li => li.lastChild.textContent)`, &shown)
	d.eval(v, "T.msgs.slice(1).map(m => m.body)", &received)
	if !slices.Equal(shown, payloads) || !slices.Equal(received, payloads) {
		t.Fatalf("payloads shown %q, received %q", shown, received)
	}
	var elements int
	d.eval(v, `document.querySelectorAll("img, svg, iframe, #log script").length + (window.__xss === undefined ? 0 : 100)`, &elements)
	if elements != 0 {
		t.Fatalf("XSS payload became markup or ran (%d)", elements)
	}
	d.shot(v, filepath.Join(shots, "2-xss.png"))
	agentCursor := uint64(2 + len(payloads))

	// 3. The server stops mid-conversation. The page queues what is sent
	// meanwhile, in memory and in localStorage: it survives a reload. The
	// server restarts on the same data and port; both sides resume from
	// their cursors and every message arrives exactly once.
	srv.Stop()
	d.wait(v, `Kefu.status() == "offline"`)
	select {
	case <-a.c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("agent connection survived the stop")
	}
	d.eval(v, `T.send("Sent while the server is down (1)")`, nil)
	var stored int
	d.eval(v, `JSON.parse(localStorage.getItem("kefu:demo:" + Kefu.user())).q.length`, &stored)
	if stored != 1 {
		t.Fatalf("queue in localStorage holds %d messages, want 1", stored)
	}
	d.reload(v, page)
	d.wait(v, `Kefu.pending().length == 1 && Kefu.conversation() == `+js(conv))
	d.eval(v, `T.send("Sent while the server is down (2)")`, nil)
	d.wait(v, `T.errors.some(e => e.code == "connect_failed")`)
	d.shot(v, filepath.Join(shots, "3-offline.png"))

	srv = testserver.StartAt(t, data, testserver.WithAllowedOrigins(site.URL), pinGateway(gw))
	d.wait(v, `T.acks.length == 2 && Kefu.pending().length == 0`)
	var opens []string
	d.eval(v, "T.opens", &opens)
	if len(opens) != 1 || opens[0] != conv {
		t.Fatalf("page opened %v, want to resume %s", opens, conv)
	}
	a = dialAgent(t, srv)
	missed = a.join(conv, agentCursor)
	want := []string{"Sent while the server is down (1)", "Sent while the server is down (2)"}
	if !slices.Equal(bodies(missed), want) || missed[0].Seq != agentCursor+1 {
		t.Fatalf("agent resumed with %q, want %q", bodies(missed), want)
	}
	a.send(conv, "Back after the restart.")
	d.wait(v, "T.msgs.length == 1")
	d.eval(v, "T.msgs.map(m => m.body + '#' + m.seq)", &received)
	if !slices.Equal(received, []string{fmt.Sprintf("Back after the restart.#%d", agentCursor+3)}) {
		t.Fatalf("page after the restart got %q", received)
	}
	d.shot(v, filepath.Join(shots, "4-restarted.png"))
	// The log holds everything once, in order.
	all, err := a.c.Replay(a.ctx(), conv, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	wantAll := append(append([]string{"Hello, is anyone there?", "Hi! I'm Alice. How can I help?"}, payloads...), want...)
	wantAll = append(wantAll, "Back after the restart.")
	if !slices.Equal(bodies(all.Messages), wantAll) || all.End.More {
		t.Fatalf("conversation log %q, want %q", bodies(all.Messages), wantAll)
	}
	ids := map[string]bool{}
	for i, m := range all.Messages {
		if m.Seq != uint64(i+1) || ids[m.ClientMsgId] {
			t.Fatalf("log entry %d: seq %d, client_msg_id %q repeated=%v", i, m.Seq, m.ClientMsgId, ids[m.ClientMsgId])
		}
		ids[m.ClientMsgId] = true
	}

	// 4. A page from an origin not on the allow-list: the handshake gets
	// 403 and the SDK reports the failure.
	req, _ := http.NewRequest("GET", srv.HTTPURL(), nil)
	req.URL.Host = gw
	req.URL.Path = "/ws"
	for k, val := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": foreign.URL} {
		req.Header.Set(k, val)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("handshake from %s: %d, want 403", foreign.URL, res.StatusCode)
	}
	const f = "foreign"
	d.open(f, pageURL(foreign.URL, "endpoint", srv.WSURL()))
	d.eval(f, `(Kefu.open().catch(() => {}), true)`, nil)
	d.wait(f, `T.errors.filter(e => e.code == "connect_failed" && e.retryable).length >= 2`)
	var states []string
	d.eval(f, "T.status", &states)
	if slices.Contains(states, "online") {
		t.Fatalf("foreign page went online: %v", states)
	}
	if logs := d.logs(f); !slices.ContainsFunc(logs, func(l string) bool { return strings.Contains(l, "403") }) {
		t.Errorf("browser did not report a 403 handshake: %q", logs)
	}
	d.eval(f, "Kefu.close()", nil)
	d.shot(f, filepath.Join(shots, "5-foreign-origin.png"))

	// 5. The fallback slot: WebSocket to a closed port fails twice, the SDK
	// switches to the plugged-in transport (here a second WebSocket route,
	// named test-fallback; long-poll will take this place), and goes back
	// to WebSocket once the endpoint answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	const fb = "fallback"
	d.open(fb, pageURL(site.URL, "endpoint", "ws://"+closed+"/ws", "fallback", srv.WSURL(), "retryMax", "300"))
	d.eval(fb, `(Kefu.open().catch(() => {}), true)`, nil)
	d.wait(fb, `Kefu.status() == "online" && T.transports[T.transports.length - 1] == "test-fallback" && T.opens.length == 1`)
	d.eval(fb, `T.send("Over the fallback")`, nil)
	d.wait(fb, "T.acks.length == 1")
	proxy(t, closed, gw)
	d.wait(fb, `Kefu.status() == "online" && T.transports[T.transports.length - 1] == "websocket"`)
	d.eval(fb, `T.send("Back on WebSocket")`, nil)
	d.wait(fb, "T.acks.length == 2 && Kefu.pending().length == 0")
	var fconv string
	d.eval(fb, "Kefu.conversation()", &fconv)
	if got := bodies(a.join(fconv, 0)); !slices.Equal(got, []string{"Over the fallback", "Back on WebSocket"}) {
		t.Fatalf("fallback conversation holds %q", got)
	}
	d.shot(fb, filepath.Join(shots, "6-fallback.png"))
	if logs := d.logs(v); slices.ContainsFunc(logs, func(l string) bool { return strings.HasPrefix(l, "pageerror") }) {
		t.Errorf("page errors: %q", logs)
	}
}

// proxy listens on addr and forwards every connection to target, until
// the test ends.
func proxy(t *testing.T, addr, target string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("proxy on %s: %v", addr, err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		conns  []net.Conn
		closed bool
	)
	// track keeps c to close at the end (at once when that has come).
	track := func(c net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			c.Close()
		}
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			track(c)
			wg.Go(func() {
				defer c.Close()
				u, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				track(u)
				defer u.Close()
				go func() {
					io.Copy(u, c)
					u.(*net.TCPConn).CloseWrite()
				}()
				io.Copy(c, u)
			})
		}
	})
}
