// Package accounts is the directory of sites (tenants), their agents and
// the agents' login sessions, kept in storage table 's'.
//
// # What it owns
//
//   - Sites: id, secret (32 random bytes, hex; RotateSecret keeps the old
//     one verifying for Options.SecretGrace), allowed origins, settings
//     (offline message, queue message, max queue length).
//   - Agents: id, site, email (unique per site, case-insensitive), name,
//     role admin|agent, groups, capacity, weight, argon2id password hash.
//   - Sessions: opaque bearer tokens issued by Login (32 random bytes,
//     base64url); only the token's SHA-256 is stored, with the expiry.
//   - Login throttling per (site, email), in memory and bounded.
//   - HELLO authentication (HelloAuth) for the engine: agents by session
//     token, visitors anonymous or verified with the site secret
//     (internal/token), unknown sites handed to a fallback (internal/sites).
//   - Groups (id, visitor tags) and canned replies (id, shortcut unique per
//     site case-insensitively, title, body) of each site.
//   - Visitor profiles: tags, client string, first and last seen, written by
//     TouchVisitor / TouchVisitors (one commit per batch), or queued from
//     any goroutine, the event loop included, with a VisitorToucher (a
//     bounded channel and one goroutine; a full queue drops and counts);
//     the conversation count is read from the storage index ('v') by
//     GetVisitor.
//   - Webhook endpoint configurations (URL, secret, events) of each site,
//     which engine/webhook.Outbox keeps in memory only: AllWebhooks loads
//     them into it at start-up.
//
// # The in-memory cache
//
// New scans table 's' once and keeps every site, every live session and
// every agent's role and session epoch in memory (cache.go, sync.Map: reads
// take no lock). Each write method updates it right after its commit.
// Authenticate, VerifyToken and HelloAuth read only the cache, so a HELLO
// on the event loop never touches Pebble; the store's directory lock means
// no other process changes the records behind it. Expired sessions stay in
// the cache (answering ErrSessionExpired) until PurgeSessions.
//
// # Site isolation
//
// Every method that reads or writes an agent takes the site, and every key
// starts with comp(site): a lookup of another site's agent id or email finds
// nothing and returns ErrNotFound (or ErrBadCredentials for Login), exactly
// as for an id that does not exist. Sessions are global (Authenticate takes
// only the token) but carry their site; callers scope requests by
// Session.Site, and HelloAuth refuses a session whose site or agent differ
// from the HELLO's.
//
// # Passwords
//
// argon2id (RFC 9106) from golang.org/x/crypto/argon2, with a fresh random
// salt per hash and the PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64 std no pad>$<key, same>
//
// DefaultArgon2() is OWASP's recommendation: m=19456 KiB (19 MiB), t=2, p=1,
// a 16-byte salt and a 32-byte key. Each hash carries its parameters, so
// changing Options.Argon2 leaves old hashes verifiable. Verification
// recomputes the key and compares with subtle.ConstantTimeCompare. Login of
// an unknown email verifies against a dummy hash, so it costs the same as a
// wrong password. No default credentials exist: CreateAgent and
// SetPassword generate a random one-time password (18 random bytes,
// base64url) when given none, and return it once.
//
// # Key layout (table 's', reserved for this package in package storage)
//
//	comp(s) = uvarint(len(s)) | s          (storage.AppendComponent)
//
//	site      's' | comp(site) | 'S' | comp("")          → site JSON
//	agent     's' | comp(site) | 'A' | comp(agent id)    → agent JSON (with hash, epoch)
//	email     's' | comp(site) | 'E' | comp(lower(email)) → agent id
//	session   's' | comp("")   | 'T' | comp(sha256(token)) → session JSON
//	group     's' | comp(site) | 'G' | comp(group id)   → group JSON
//	canned    's' | comp(site) | 'C' | comp(canned id)  → canned reply JSON
//	shortcut  's' | comp(site) | 'K' | comp(lower(shortcut)) → canned id
//	visitor   's' | comp(site) | 'V' | comp(visitor id) → visitor JSON
//	webhook   's' | comp(site) | 'W' | comp(endpoint id) → webhook JSON
//
//	+----+-----+------------+------+-----+----------+
//	| 73 | len | site bytes | kind | len | id bytes |
//	+----+-----+------------+------+-----+----------+
//	  1     1    1..128        1      1    0..254
//
// Site ids are 1..128 bytes, so the empty site component (a single 0x00
// byte) of the session range can never collide with a site. One site's
// agents are one contiguous range ('s'|comp(site)|'A'), which ListAgents
// scans in id order. Agent ids are "ag" + 24 hex characters.
//
// Values are JSON: this is a low-rate control path, and JSON keeps the
// records readable and extensible. Each write method stages all of its
// keys in one storage.Batch and commits once, with the store's durability,
// so a record and its email index never disagree.
//
// Sessions end on Logout, on expiry (Options.SessionTTL, 12h), when the
// agent is deleted, and when its password changes (SetPassword bumps the
// agent's epoch, which each session records at login). PurgeSessions
// deletes the dead ones from disk.
//
// # Goroutines
//
// An *Accounts is safe for concurrent use. One mutex serialises
// read-check-write sequences; argon2 hashing and reads run outside it, and
// Authenticate and HelloAuth read only the lock-free cache, so they never
// wait behind a write. Visitor profile updates have their own mutex, the
// throttle another. The package keeps no global state.
//
// # Offline administration
//
// The running server holds the Pebble directory's lock, so `kefu admin`
// (cmd/kefu) works on a stopped server's data directory.
package accounts
