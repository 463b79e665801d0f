// Package mochibroker is the MQTT baseline Kefu's broker is measured
// against: mochi-mqtt (github.com/mochi-mqtt/server/v2) as a plain TCP
// broker, every client and topic allowed, sessions in memory, nothing
// stored, its capabilities at mochi's defaults unless Options says
// otherwise.
//
//	            ┌──────────── per connection (mochi) ────────────┐
//	socket ──►  │ read goroutine: bufio.Reader, decode, route     │ ──► topics index ─┐
//	            └─────────────────────────────────────────────────┘   (subscribers)   │
//	            ┌─────────────────────────────────────────────────┐                    │
//	socket ◄──  │ write goroutine: outbound chan → bufio.Writer   │ ◄──────────────────┘
//	            └─────────────────────────────────────────────────┘
//
// Each client costs two goroutines, a bufio reader and writer and an
// outbound channel of Capabilities.MaximumClientWritesPending packets
// (8,192 by default); publishers route on their own read goroutine. It is
// the goroutine-per-connection design, as the gorilla hub is for the chat
// protocol.
//
// Goroutines: Start serves in the background; Addr and Close may be
// called from any goroutine.
package mochibroker
