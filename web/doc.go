// Package web owns Kefu's browser side: the visitor SDK, kefu.js, with its
// chat widget (widget) and the demo page (demo): their TypeScript sources
// (sdk/src, widget/src), their build (build.mjs, esbuild from npm), the
// built files the binary embeds (dist), the HTTP handlers that serve them,
// and the tests that run them in a real Chromium against a real kefu
// server.
//
// # Files served
//
//	kefu.js       script, sets window.Kefu (readable)          text/javascript
//	kefu.min.js   the same, minified (≤ 6 KiB gzipped)         text/javascript
//	kefu.esm.js   ES module, default export Kefu               text/javascript
//	kefu.d.ts     TypeScript declarations of both              text/plain
//	kefu-widget.min.js  the chat panel (≤ 12 KiB gzipped)     text/javascript
//
// Demo (demo.go) serves the demo H5 page, demo/ as it is (go:embed): a
// product page that embeds the widget, with a strict CSP (Trusted Types
// enforced) and the gateway endpoint written into it.
//
// dist/ is committed, so `go build` needs no Node. TestBuildMatchesSources
// rebuilds it into a temporary directory and fails when it differs from the
// sources: after changing sdk/src, run `npm ci && node build.mjs` in web/.
//
// # SDK layers
//
//	page ── Kefu API (index.ts) ── Session (session.ts) ── Transport (types.ts)
//	                                 │  cursors, queue           │
//	                                 └─ store.ts (localStorage)  ├─ websocket (ws.ts)
//	                                                             └─ fallback: any TransportFactory
//
// A Transport carries envelopes of docs/protocol-ws.md both ways and reports
// open, message and close; the Session does the protocol: HELLO → WELCOME,
// OPEN (resume with the stored conversation and cursor) → MESSAGE* →
// JOINED, the send queue (memory and localStorage, resent with the same
// client_msg_id until ACK), de-duplication by (conversation, seq),
// reconnects with jittered exponential backoff, app-level pings paused while
// the page is hidden, and the switch to Options.fallback after WebSocket
// failed fallbackAfter times in a row (with a WebSocket probe to come back).
// HTTP long-poll is not built yet: it will be a TransportFactory.
//
// # The widget
//
// Kefu.init({..., widget}) draws a launcher bubble (sdk/src/loader.ts, in
// a shadow root) and, the first time it opens, loads the panel
// (widget/src, kefu-widget.min.js) with a script tag; the panel sees the
// SDK through its events only: "envelope" (everything received, history
// pages included), "state" (the routing state derived by sdk/src/state.ts
// from JOINED, "queue" events and system messages), "ack", "error",
// "status", and sends with Kefu.send and Kefu.call (close, rate, a new
// conversation, an image or file message after its upload).
//
// # Goroutines
//
// Handler is immutable after NewHandler and safe for concurrent use.
package web
