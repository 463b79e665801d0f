// Package proto is Kefu's application schema: the kefu.v1 messages of
// kefu.proto, their generated Go (kefu.pb.go, from `make proto`; never
// edited by hand), and the JSON form of Envelope that WebSocket text frames
// carry (json.go encodes, json_decode.go and json_scan.go decode,
// json_names.go names the enum values). Binary frames and storage use the
// protobuf encoding (google.golang.org/protobuf/proto).
//
// The wire protocols are specified in docs/protocol-ws.md (WebSocket, where
// this JSON form is used) and docs/protocol-frame.md (binary TCP frames).
//
// # JSON form of an Envelope
//
// One JSON object per WebSocket text message. Keys are the proto field
// names; a field holding its zero value is left out by AppendJSON and may
// be left out (or given as null) by a sender:
//
//	{"type":"message",              enum Type: "hello" … "leave" (short name)
//	 "id":7,                        uint64: JSON number
//	 "conversation":"k3v0q8m1d2",
//	 "seq":42,                      uint64
//	 "client_msg_id":"m-17",
//	 "sender":"v:v-42",
//	 "kind":"text",                 enum Kind: "text" "image" "file" "event"
//	 "body":"Hi \u003cb\u003e",
//	 "ts":1795000000000,            int64, unix milliseconds
//	 "hello":{"site":"demo","role":"visitor","user":"v-42","token":"…","client":"kefu-js/1.0"},
//	 "cursors":[{"conversation":"k3v0q8m1d2","seq":41}],
//	 "error":{"code":"busy","message":"server busy","retryable":true},
//	 "more":true,
//	 "limit":50,                    uint32
//	 "event":"typing"}
//
// Enums are written as their proto value name in lower case without the
// TYPE_/ROLE_/KIND_/CODE_ prefix ("replay_end", "not_found"; see TypeName
// and friends); a value this version does not know is written as its
// number. Integers are JSON numbers in decimal. JavaScript reads numbers
// exactly up to 2^53, which ids, seqs and millisecond timestamps stay below.
//
// # Decoding rules (UnmarshalJSON)
//
// Accepted, for interoperability (protojson's output decodes too):
//   - enums as short names, full proto names ("TYPE_SEND"), or numbers
//     within int32 (a number the schema does not name is kept, as protobuf
//     keeps unknown enum values);
//   - integers as JSON numbers or as strings holding one ("42"), without
//     fraction or exponent;
//   - "clientMsgId" for "client_msg_id" (protojson's JSON name);
//   - null for any field: the field stays absent;
//   - unknown keys, whose values are checked for syntax and skipped;
//   - \u escapes anywhere, keys included; a lone UTF-16 surrogate
//     (RFC 8259 §8.2) decodes to U+FFFD, which is what a browser sending
//     the protobuf form would have produced (TextEncoder), so both forms
//     store the same bytes.
//
// Rejected, each with its sentinel error: text that is not one JSON object
// (ErrJSONSyntax, ErrJSONNotObject); a value of the wrong JSON type
// (ErrJSONType); a number that is not an integer or does not fit its field
// (ErrJSONRange); an unknown enum name (ErrJSONEnum); bytes that are not
// UTF-8 (ErrJSONUTF8); a known key twice in one object, aliases included,
// so that no two readers of a payload can disagree about it
// (ErrJSONDuplicate); containers nested deeper than the schema's three
// levels, unknown keys included (ErrJSONDepth), so decoding needs no stack
// beyond that and no input can make it recurse.
//
// # Escaping (AppendJSON)
//
// '"', '\\' and the control characters are escaped as RFC 8259 §7 asks
// (\n \r \t \b \f, \u00XX for the others). So are '<', '>', '&' (\u003c,
// \u003e, \u0026) and U+2028, U+2029: a payload dropped into an HTML page or
// a <script> block can never close the tag, open a comment or end a
// JavaScript string. Bytes that are not valid UTF-8 (only a Go caller can
// put them in an Envelope) are written as \ufffd, so the output is always
// valid UTF-8, as a WebSocket text frame must be (RFC 6455 §8.1).
//
// # Goroutines and buffers
//
// The package holds no mutable state; every function is safe for
// concurrent use. AppendJSON only appends to dst and, when dst has room,
// allocates nothing. UnmarshalJSON copies every string it keeps, each into
// its own allocation: the input is a connection's read buffer, reused as
// soon as the call returns, and a retained string (a conversation id kept
// by a shard, a user id kept by a connection) must not pin a whole frame.
// Keys, enum names, numbers and skipped values cost no allocation; a
// typical MESSAGE costs one allocation per non-empty string.
//
// # Performance
//
// BenchmarkAppendJSON and BenchmarkUnmarshalJSON (json_bench_test.go)
// compare this code with protojson and encoding/json on a MESSAGE with a
// 100-byte body; docs/protocol-ws.md §12 has the numbers.
package proto
