// Package api is Kefu's REST API (/api/v1/) for the agent console and
// site backends, and the file endpoint of uploads (/files/). It is plain
// net/http with Go 1.22 ServeMux patterns; docs/api.md describes every
// endpoint and docs/openapi.yaml is its OpenAPI 3 description (a test
// keeps the route table and that file identical).
//
// # What it owns
//
// Handlers only. Records live elsewhere and are reached through:
//
//	internal/accounts   sites, agents, sessions, groups, canned replies,
//	                    visitor profiles, webhook endpoint configurations
//	storage             conversation records, messages, the site and
//	                    visitor indexes ('x', 'v')
//	Conversations       shard.Router.Call: claim, transfer, close, send and
//	                    status run as the calling agent, through the same
//	                    checks as on a WebSocket
//	Desk                shard.Desk: the routing state (agents' presence and
//	                    load, groups, queues); the API pushes agent, group
//	                    and site changes to it
//	webhook.Outbox      endpoints (loaded from accounts at New and after
//	                    each change), dead letters, retries
//	<UploadDir>         uploaded files, content-addressed
//
// # Requests
//
//	client ──HTTP──▶ API.ServeHTTP ──▶ route table (routes.go)
//	                   │ 404/405 JSON      │ authenticate: Bearer session │ Visitor hello
//	                   │                   │ role check (admin routes)
//	                   ▼                   ▼
//	            error JSON           handler(site of the session) ──▶ accounts / storage /
//	                                                                   Call / Desk / Outbox
//
// Every request is scoped to the site of its credentials: a handler reads
// and writes only that site's records, and an id of another site is
// answered exactly like an unknown id (404), never 200. Admin routes
// answer 403 to agents. Credentials travel only in the Authorization
// header (a token in the query string is refused with 400); session
// tokens are looked up by their SHA-256 (accounts), visitor tokens
// verified with hmac.Equal (internal/token), so no secret is compared
// byte by byte. Responses carry Cache-Control: no-store (API) and
// X-Content-Type-Options: nosniff (all).
//
// Errors are {"error":{"code":"...","message":"..."}} with the stable
// codes of errors.go. Lists are {"items":[...],"next":"<cursor>"}, "" at
// the end; ?cursor= continues, ?limit= is 1..200 (default 50).
//
// # Bounded work
//
// Every request does a bounded amount of work: pages are capped; a
// filtered conversation listing examines at most Options.ListScan index
// entries, a search at most Options.SearchConversations conversations and
// Options.SearchMessages messages, the queue at most Options.QueueScan
// waiting conversations, the stats at most Options.StatsConversations
// records; past a budget the answer ends early with a cursor. Desk and
// Call round trips are bounded by Options.CallTimeout.
//
// # Goroutines
//
// An *API holds no goroutine and no mutable state besides a request id
// counter and metrics; net/http runs handlers on its own goroutines, which
// may block on Pebble reads, Call and Desk replies (never on the event
// loops, which the API never touches). Request bodies are read once and
// owned by the handler; nothing is retained after a response.
//
// # Uploads
//
// POST /api/v1/uploads takes a raw body whose Content-Type is on the
// allow-list (Options.UploadTypes); the first 512 bytes must sniff
// (http.DetectContentType) as the same type, so HTML posing as text or as
// an image is refused. The file is written to a temporary file while
// hashed, fsync'd, and renamed to <UploadDir>/<hh>/<sha256>.<ext>; an
// existing file of the same content is kept (dedupe). GET /files/<name>
// serves it with the Content-Type of its extension (never sniffed, never
// HTML), nosniff, a sandboxing Content-Security-Policy, and
// Content-Disposition: attachment for everything but images. File URLs
// are capabilities: unguessable (the content's hash) and public, so that
// <img> tags work without credentials.
package api
