// Package web owns Kefu's browser side. So far that is the visitor SDK,
// kefu.js: its TypeScript sources (sdk/src), its build (build.mjs, esbuild
// from npm), the built files the binary embeds (dist), the HTTP handler that
// serves them, and the tests that run it in a real Chromium against a real
// kefu server.
//
// # Files served
//
//	kefu.js       script, sets window.Kefu (readable)          text/javascript
//	kefu.min.js   the same, minified (≤ 6 KiB gzipped)         text/javascript
//	kefu.esm.js   ES module, default export Kefu               text/javascript
//	kefu.d.ts     TypeScript declarations of both              text/plain
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
// # Goroutines
//
// Handler is immutable after NewHandler and safe for concurrent use.
package web
