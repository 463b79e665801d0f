//go:build unix

package web

import (
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/server"
	"github.com/kefu-im/kefu/internal/testserver"
	pb "github.com/kefu-im/kefu/proto"
)

// pinHTTP makes a restarted server's HTTP side (long-poll) listen where
// the first one did, so that the page's api option stays valid.
func pinHTTP(addr string) testserver.Option {
	return func(c *server.Config) { c.HTTP.Addr = addr }
}

// lpPageServer is pageServer with a policy that also lets the page reach
// the HTTP side (long-poll) on 127.0.0.1.
func lpPageServer(t *testing.T, dir string) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/sdk/", http.StripPrefix("/sdk", NewHandler()))
	files := http.FileServer(http.Dir(filepath.Join(dir, "test", "page")))
	csp := strings.Replace(pageCSP, "ws://127.0.0.1:*", "ws://127.0.0.1:* http://127.0.0.1:*", 1)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(w, r)
	}))
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// chat returns the agent's pushed MESSAGEs other than system messages,
// waiting for n of them.
func (a *agent) chat(n int) []*pb.Envelope {
	a.t.Helper()
	var out []*pb.Envelope
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case e, ok := <-a.c.Messages():
			if !ok {
				a.t.Fatalf("agent connection ended: %v", a.c.Err())
			}
			if e.Type == pb.Type_TYPE_MESSAGE && e.Sender != "s:system" {
				out = append(out, e)
			}
		case <-timeout:
			a.t.Fatalf("agent: %d of %d messages within 10s: %v", len(out), n, out)
		}
	}
	return out
}

// typing waits for the visitor's typing event, passing over system
// messages and other pushes, failing on any other message.
func (a *agent) typing() {
	a.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-a.c.Messages():
			if !ok {
				a.t.Fatalf("agent connection ended: %v", a.c.Err())
			}
			if e.Type == pb.Type_TYPE_EVENT && e.Event == "typing" && strings.HasPrefix(e.Sender, "v:") {
				return
			}
			if e.Type == pb.Type_TYPE_MESSAGE && e.Sender != "s:system" {
				a.t.Fatalf("agent got an unexpected message: %v", e)
			}
		case <-timeout:
			a.t.Fatal("agent: no typing within 10s")
		}
	}
}

// human drops system messages.
func human(es []*pb.Envelope) []*pb.Envelope {
	return slices.DeleteFunc(es, func(e *pb.Envelope) bool { return e.Sender == "s:system" })
}

// TestBrowserLongPoll: WebSocket cannot connect (the page's endpoint is a
// closed port), so the SDK falls back to HTTP long-poll on its own and
// chats with an agent on WebSocket: messages and typing both ways. The
// server restarts mid-conversation with a message queued on the page;
// afterwards everything has arrived exactly once. When the WebSocket
// endpoint answers again the SDK goes back to it.
func TestBrowserLongPoll(t *testing.T) {
	dir := needNode(t)
	chromium := needChromium(t)
	shots := t.ArtifactDir()
	site := lpPageServer(t, dir)
	data := t.TempDir()
	srv := testserver.StartAt(t, data, testserver.WithAllowedOrigins(site.URL))
	api := srv.HTTPURL()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	d := startDriver(t, dir, chromium)
	page := pageURL(site.URL, "endpoint", "ws://"+closed+"/ws", "api", api, "retryMax", "300")

	// 1. The visitor opens a conversation: two failed WebSocket attempts,
	// then long-poll, with no fallback configured (the default, auto).
	const v = "longpoll"
	d.open(v, page)
	var conv string
	d.eval(v, "Kefu.open()", &conv)
	d.wait(v, `Kefu.status() == "online" && T.transports[T.transports.length - 1] == "longpoll"`)
	var fails int
	d.eval(v, `T.errors.filter(e => e.code == "connect_failed" && e.message.startsWith("websocket")).length`, &fails)
	if fails < 2 {
		t.Errorf("%d failed WebSocket attempts before the fallback, want 2", fails)
	}
	d.eval(v, `T.send("Hello over long-poll <b>")`, nil)
	d.wait(v, "T.acks.length == 1")

	// 2. The agent, on WebSocket, joins and answers; typing both ways.
	a := dialAgent(t, srv)
	missed := human(a.join(conv, 0))
	if len(missed) != 1 || missed[0].Body != "Hello over long-poll <b>" {
		t.Fatalf("agent join: %v", missed)
	}
	cursor := missed[0].Seq
	seqHi := a.send(conv, "Hi from the agent")
	d.wait(v, `T.msgs.some(m => m.body == "Hi from the agent" && m.seq == `+itoa(seqHi)+`)`)
	a.event(conv, "typing", 0)
	d.wait(v, `T.events.some(e => e.event == "typing" && e.sender == "a:alice")`)
	d.eval(v, "Kefu.typing()", nil)
	a.typing()
	d.shot(v, filepath.Join(shots, "1-longpoll.png"))

	// 3. The server stops (its long-poll sessions get GOAWAY); the page
	// queues a message; the server restarts on the same data and HTTP
	// address; the page reconnects over long-poll, resumes and sends the
	// message once.
	srv.Stop()
	d.wait(v, `Kefu.status() == "offline"`)
	d.eval(v, `T.send("Sent while the server is down")`, nil)
	srv = testserver.StartAt(t, data, testserver.WithAllowedOrigins(site.URL), pinHTTP(srv.HTTP.Addr().String()))
	d.wait(v, `T.acks.length == 2 && Kefu.pending().length == 0 && T.transports[T.transports.length - 1] == "longpoll"`)
	a = dialAgent(t, srv)
	missed = human(a.join(conv, seqHi))
	if got := bodies(missed); !slices.Equal(got, []string{"Sent while the server is down"}) {
		t.Fatalf("agent resumed with %q", got)
	}
	seqBack := a.send(conv, "Back after the restart")
	d.wait(v, `T.msgs.some(m => m.body == "Back after the restart")`)
	d.shot(v, filepath.Join(shots, "2-longpoll-restarted.png"))

	// 4. WebSocket answers again: the SDK's probe finds it and moves over.
	proxy(t, closed, srv.Addr())
	d.wait(v, `Kefu.status() == "online" && T.transports[T.transports.length - 1] == "websocket"`)
	d.eval(v, `T.send("Back on WebSocket")`, nil)
	d.wait(v, "T.acks.length == 3 && Kefu.pending().length == 0")
	if got := a.chat(1); got[0].Body != "Back on WebSocket" {
		t.Fatalf("agent got %v", got)
	}

	// Nothing lost, nothing doubled: the page saw each agent message once,
	// the log holds each message once, in order.
	var received []string
	d.eval(v, `T.msgs.filter(m => m.kind != "event").map(m => m.body + "#" + m.seq)`, &received)
	want := []string{"Hi from the agent#" + itoa(seqHi), "Back after the restart#" + itoa(seqBack)}
	if !slices.Equal(received, want) {
		t.Fatalf("page received %q, want %q", received, want)
	}
	all, err := a.c.Replay(a.ctx(), conv, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	log := human(all.Messages)
	wantLog := []string{"Hello over long-poll <b>", "Hi from the agent", "Sent while the server is down", "Back after the restart", "Back on WebSocket"}
	if !slices.Equal(bodies(log), wantLog) || log[0].Seq != cursor {
		t.Fatalf("conversation log %q, want %q", bodies(log), wantLog)
	}
	for i := 1; i < len(log); i++ {
		if log[i].Seq <= log[i-1].Seq {
			t.Fatalf("log out of order: %v", log)
		}
	}
	d.shot(v, filepath.Join(shots, "3-back-on-websocket.png"))

	// 5. fallback "longpoll": long-poll only, though WebSocket works.
	const o = "lponly"
	d.open(o, pageURL(site.URL, "endpoint", srv.WSURL(), "api", api, "mode", "longpoll"))
	var conv2 string
	d.eval(o, "Kefu.open()", &conv2)
	d.eval(o, `T.send("Long-poll only")`, nil)
	d.wait(o, "T.acks.length == 1")
	var used []string
	d.eval(o, "T.transports.filter(x => x)", &used)
	if slices.Contains(used, "websocket") || !slices.Contains(used, "longpoll") {
		t.Fatalf("long-poll only page used %q", used)
	}
	if got := bodies(human(a.join(conv2, 0))); !slices.Equal(got, []string{"Long-poll only"}) {
		t.Fatalf("long-poll only conversation holds %q", got)
	}
	if logs := d.logs(v); slices.ContainsFunc(logs, func(l string) bool { return strings.HasPrefix(l, "pageerror") }) {
		t.Errorf("page errors: %q", logs)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
