//go:build unix

package web

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kefu-im/kefu/internal/testserver"
)

// TestVisitorAndConsoleBrowser runs both ends of a conversation in one
// Chromium, each page in its own browser context (driver "page" command):
// the demo page with the widget (visitor) and the agent console (Alice,
// logged in through its form), against a real kefu with routing on. Alice
// sets herself away; the visitor writes and the widget shows the queue
// position; Alice claims the conversation from the queue and the widget
// shows her name; messages go both ways and show in both pages; the
// server stops and restarts on the same data directory and gateway port;
// one more message each way then shows exactly once in both pages.
// Screenshots go to the test's artifact directory, and with
// KEFU_WIDGET_SCREENSHOTS set (see shot) also there as two-context-*.png.
func TestVisitorAndConsoleBrowser(t *testing.T) {
	dir := needNode(t)
	chromium := needChromium(t)
	shots := t.ArtifactDir()
	site := startConsoleSite(t)
	demo := newDemoSite(t)
	data := t.TempDir()
	origins := testserver.WithAllowedOrigins(site.URL, demo.URL)
	srv := startKefu(t, data, site, origins)
	gw := srv.Addr()
	demo.gateway(t, srv.WSURL())
	_, password := newAgent(t, srv, admin(t, srv), "alice@example.com", "Alice")

	// Alice logs in (context "agent") and sets herself away.
	d := startDriver(t, dir, chromium)
	const ag, v = "agent", "visitor"
	openConsole(d, site, ag)
	login(d, ag, "alice@example.com", password)
	await(d, ag, 10000, `document.querySelector("#conn.online") && !document.querySelector("#presence").disabled && document.querySelector("#me").textContent.startsWith("Alice")`)
	d.eval(ag, `(p => { p.value = "away"; p.dispatchEvent(new Event("change")); return true })(document.querySelector("#presence"))`, nil)
	await(d, ag, 10000, `document.querySelector("#presence").dataset.status == "away"`)

	// The visitor (context "visitor") opens the widget and writes: no
	// agent is available, the widget shows its place in the queue.
	const notice = `($(".n").hidden ? "" : $(".n").textContent)`
	openPage(d, v, demo.URL+"/demo/")
	d.wait(v, w(`$("button.l")`))
	d.do("click", v, map[string]any{"selector": "button.l"})
	d.wait(v, w(`$(".f textarea") && r.activeElement == $(".f textarea")`))
	vsay := func(text string) {
		t.Helper()
		d.do("click", v, map[string]any{"selector": ".f textarea"})
		d.do("type", v, map[string]any{"text": text})
		d.do("press", v, map[string]any{"key": "Enter"})
	}
	vsay("Hello, is my parcel on its way?")
	d.wait(v, w(notice+` == "You are number 1 in the queue" && $$(".m.me .tk.sent").length == 1`))
	var conv string
	d.eval(v, "Kefu.conversation()", &conv)

	// Alice claims it from the queue: the widget shows her name.
	inQueue := `document.querySelector('#queue-list li[data-conv="` + conv + `"]')`
	await(d, ag, 10000, inQueue)
	d.eval(ag, inQueue+`.querySelector("button.claim").click()`, nil)
	await(d, ag, 10000, `location.hash == "#/c/`+conv+`" && !`+inQueue)
	d.wait(v, w(notice+` == "" && $(".hs").textContent == "Alice" && $$(".sys").some(e => e.textContent == "Alice joined the conversation")`))

	// Messages both ways, in both pages.
	await(d, ag, 10000, jsBodies+`.includes("Hello, is my parcel on its way?")`)
	d.eval(ag, jsSend+`("Hi, I am Alice. It left the warehouse today.")`, nil)
	d.wait(v, w(`$$(".m.them .tx").some(e => e.textContent == "Hi, I am Alice. It left the warehouse today.") && $(".m.them .who")?.textContent == "Alice"`))
	vsay("Great, thank you!")
	await(d, ag, 10000, jsBodies+`.includes("Great, thank you!")`)
	d.wait(v, w(`$$(".m.me .tk.sent, .m.me .tk.read").length == 2`))

	// The server stops: both pages notice; it restarts on the same data
	// and gateway port, and both resume.
	site.out.CloseIdleConnections()
	srv.Stop()
	await(d, ag, 10000, `document.querySelector("#conn.offline")`)
	d.wait(v, w(notice+` == "Reconnecting…"`))
	srv = startKefu(t, data, site, origins, pinGateway(gw))
	await(d, ag, 30000, `document.querySelector("#conn.online")`)
	d.do("wait", v, map[string]any{"expr": w(notice + ` == ""`), "ms": 30000})

	// One more message each way: each shows exactly once on both sides,
	// and nothing before it doubled.
	d.eval(ag, jsSend+`("Anything else I can do?")`, nil)
	d.wait(v, w(`$$(".m.them .tx").some(e => e.textContent == "Anything else I can do?")`))
	vsay("No, that is all. Bye!")
	await(d, ag, 10000, jsBodies+`.includes("No, that is all. Bye!") && !document.querySelector("#msgs li.pending")`)
	d.wait(v, w(`$$(".m.me .tk.sent, .m.me .tk.read").length == 3`))
	want := []string{
		"Hello, is my parcel on its way?",
		"Hi, I am Alice. It left the warehouse today.",
		"Great, thank you!",
		"Anything else I can do?",
		"No, that is all. Bye!",
	}
	var inConsole, inWidget []string
	d.eval(ag, jsBodies, &inConsole)
	d.eval(v, w(`$$(".m .tx").map(e => e.textContent)`), &inWidget)
	for _, text := range want {
		if n := count(inConsole, text); n != 1 {
			t.Errorf("console shows %q %d times: %q", text, n, inConsole)
		}
		if n := count(inWidget, text); n != 1 {
			t.Errorf("widget shows %q %d times: %q", text, n, inWidget)
		}
	}
	if len(inConsole) != len(want) || len(inWidget) != len(want) {
		t.Errorf("console shows %q, widget %q; want %q in each", inConsole, inWidget, want)
	}

	d.do("shot", v, map[string]any{"path": filepath.Join(shots, "two-context-visitor.png"), "viewport": true})
	d.do("shot", ag, map[string]any{"path": filepath.Join(shots, "two-context-console.png"), "viewport": true})
	if docs := os.Getenv("KEFU_WIDGET_SCREENSHOTS"); docs != "" {
		d.do("shot", v, map[string]any{"path": filepath.Join(docs, "two-context-visitor.png"), "viewport": true})
		d.do("shot", ag, map[string]any{"path": filepath.Join(docs, "two-context-console.png"), "viewport": true})
	}
	noPageErrors(t, d, v)
	checkLogs(d, ag, 0)
}

// count is how many times s occurs in list.
func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}
