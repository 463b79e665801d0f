package proto

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	gproto "google.golang.org/protobuf/proto"
)

// pieces are the fragments random strings are made of: plain text, every
// character AppendJSON escapes, and multi-byte UTF-8 of every length.
var pieces = []string{
	"a", "Z", "0", " ", "hello", "\"", "\\", "/", "<", ">", "&", "'", "\x00", "\x01", "\x1f", "\n", "\r", "\t",
	"\b", "\f", "\x7f", "é", "中文", "😀", "👍🏽", "\u2028", "\u2029", "\u2027", "\u202a", "\ufffd", "\ufeff",
	"\U0010ffff", "\u0080", "</script>", "\\u0041", "{\"a\":1}",
}

func randString(r *rand.Rand) string {
	var b []byte
	for n := r.IntN(6); n > 0; n-- {
		b = append(b, pieces[r.IntN(len(pieces))]...)
	}
	return string(b)
}

func randEnum(r *rand.Rand, known int) int32 {
	switch r.IntN(8) {
	case 0:
		return int32(r.Uint32()) // unknown, maybe negative
	case 1:
		return 0
	}
	return int32(r.IntN(known))
}

func randUint(r *rand.Rand) uint64 {
	switch r.IntN(4) {
	case 0:
		return 0
	case 1:
		return r.Uint64()
	}
	return r.Uint64N(1 << 20)
}

// randEnvelope sets each field with probability one half.
func randEnvelope(r *rand.Rand) *Envelope {
	e := new(Envelope)
	maybe := func() bool { return r.IntN(2) == 0 }
	if maybe() {
		e.Type = Type(randEnum(r, len(typeNames)))
	}
	if maybe() {
		e.Id = randUint(r)
	}
	if maybe() {
		e.Conversation = randString(r)
	}
	if maybe() {
		e.Seq = randUint(r)
	}
	if maybe() {
		e.ClientMsgId = randString(r)
	}
	if maybe() {
		e.Sender = randString(r)
	}
	if maybe() {
		e.Kind = Kind(randEnum(r, len(kindNames)))
	}
	if maybe() {
		e.Body = randString(r)
	}
	if maybe() {
		e.Ts = int64(randUint(r))
	}
	if maybe() {
		e.Hello = &Hello{Site: randString(r), Role: Role(randEnum(r, len(roleNames))), User: randString(r), Token: randString(r), Client: randString(r)}
	}
	for n := r.IntN(4) - 1; n > 0; n-- {
		e.Cursors = append(e.Cursors, &Cursor{Conversation: randString(r), Seq: randUint(r)})
	}
	if maybe() {
		e.Error = &Error{Code: Code(randEnum(r, len(codeNames))), Message: randString(r), Retryable: maybe()}
	}
	e.More = maybe()
	if maybe() {
		e.Limit = uint32(randUint(r))
	}
	if maybe() {
		e.Event = randString(r)
	}
	for n := r.IntN(4) - 1; n > 0; n-- {
		e.Tags = append(e.Tags, randString(r))
	}
	if maybe() {
		e.Agent, e.Group = randString(r), randString(r)
	}
	if maybe() {
		e.Rating, e.Position = uint32(randUint(r)), uint32(randUint(r))
	}
	if maybe() {
		e.Status, e.State = randString(r), randString(r)
	}
	return e
}

// mirror is the JSON form as encoding/json sees it; enums stay raw
// because they are a name or a number.
type mirror struct {
	Type         json.RawMessage `json:"type"`
	ID           uint64          `json:"id"`
	Conversation string          `json:"conversation"`
	Seq          uint64          `json:"seq"`
	ClientMsgID  string          `json:"client_msg_id"`
	Sender       string          `json:"sender"`
	Kind         json.RawMessage `json:"kind"`
	Body         string          `json:"body"`
	Ts           int64           `json:"ts"`
	Hello        *struct {
		Site   string          `json:"site"`
		Role   json.RawMessage `json:"role"`
		User   string          `json:"user"`
		Token  string          `json:"token"`
		Client string          `json:"client"`
	} `json:"hello"`
	Cursors []struct {
		Conversation string `json:"conversation"`
		Seq          uint64 `json:"seq"`
	} `json:"cursors"`
	Error *struct {
		Code      json.RawMessage `json:"code"`
		Message   string          `json:"message"`
		Retryable bool            `json:"retryable"`
	} `json:"error"`
	More     bool     `json:"more"`
	Limit    uint32   `json:"limit"`
	Event    string   `json:"event"`
	Tags     []string `json:"tags"`
	Agent    string   `json:"agent"`
	Group    string   `json:"group"`
	Rating   uint32   `json:"rating"`
	Status   string   `json:"status"`
	State    string   `json:"state"`
	Position uint32   `json:"position"`
}

// mirrorEnum turns a raw enum back into its number with encoding/json and
// the Parse function.
func mirrorEnum(t *testing.T, raw json.RawMessage, parse func(string) (int32, bool)) int32 {
	t.Helper()
	if raw == nil {
		return 0
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		v, ok := parse(s)
		if !ok {
			t.Fatalf("enum name %q does not parse", s)
		}
		return v
	}
	v, err := strconv.ParseInt(string(raw), 10, 32)
	if err != nil {
		t.Fatalf("enum %s: %v", raw, err)
	}
	return int32(v)
}

// fromMirror converts what encoding/json read back into an Envelope.
func fromMirror(t *testing.T, m *mirror) *Envelope {
	e := &Envelope{
		Type: Type(mirrorEnum(t, m.Type, func(s string) (int32, bool) { v, ok := ParseType(s); return int32(v), ok })),
		Id:   m.ID, Conversation: m.Conversation, Seq: m.Seq, ClientMsgId: m.ClientMsgID, Sender: m.Sender,
		Kind: Kind(mirrorEnum(t, m.Kind, func(s string) (int32, bool) { v, ok := ParseKind(s); return int32(v), ok })),
		Body: m.Body, Ts: m.Ts, More: m.More, Limit: m.Limit, Event: m.Event,
		Tags: m.Tags, Agent: m.Agent, Group: m.Group, Rating: m.Rating, Status: m.Status, State: m.State,
		Position: m.Position,
	}
	if h := m.Hello; h != nil {
		e.Hello = &Hello{Site: h.Site, User: h.User, Token: h.Token, Client: h.Client,
			Role: Role(mirrorEnum(t, h.Role, func(s string) (int32, bool) { v, ok := ParseRole(s); return int32(v), ok }))}
	}
	for _, c := range m.Cursors {
		e.Cursors = append(e.Cursors, &Cursor{Conversation: c.Conversation, Seq: c.Seq})
	}
	if er := m.Error; er != nil {
		e.Error = &Error{Message: er.Message, Retryable: er.Retryable,
			Code: Code(mirrorEnum(t, er.Code, func(s string) (int32, bool) { v, ok := ParseCode(s); return int32(v), ok }))}
	}
	return e
}

// TestRandomEnvelopes is the property test: for random envelopes (fixed
// seeds), AppendJSON output is valid UTF-8 JSON free of HTML-significant
// bytes; encoding/json reads it back to the same values, every string
// exact; UnmarshalJSON does too; and UnmarshalJSON reads what protojson
// writes (camelCase or proto names, full enum names, 64-bit numbers as
// strings, its random whitespace).
func TestRandomEnvelopes(t *testing.T) {
	pj := []protojson.MarshalOptions{{}, {UseProtoNames: true}, {Multiline: true, UseEnumNumbers: true}}
	for seed := uint64(0); seed < 2000; seed++ {
		r := rand.New(rand.NewPCG(seed, 0x6b656675))
		want := randEnvelope(r)
		b := AppendJSON(nil, want)
		if !utf8.Valid(b) || !json.Valid(b) {
			t.Fatalf("seed %d: output is not valid UTF-8 JSON: %s", seed, b)
		}
		if bytes.ContainsAny(b, "<>&\u2028\u2029") {
			t.Fatalf("seed %d: HTML-significant byte in %s", seed, b)
		}

		var m mirror
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("seed %d: encoding/json: %v\n%s", seed, err, b)
		}
		if got := fromMirror(t, &m); !gproto.Equal(got, want) {
			t.Fatalf("seed %d: encoding/json read\n %v\nwant %v\nfrom %s", seed, got, want, b)
		}

		var got Envelope
		if err := UnmarshalJSON(b, &got); err != nil {
			t.Fatalf("seed %d: UnmarshalJSON: %v\n%s", seed, err, b)
		}
		if !gproto.Equal(&got, want) {
			t.Fatalf("seed %d: UnmarshalJSON read\n %v\nwant %v", seed, &got, want)
		}

		pb, err := pj[seed%3].Marshal(want)
		if err != nil {
			t.Fatalf("seed %d: protojson: %v", seed, err)
		}
		got.Reset()
		if err := UnmarshalJSON(pb, &got); err != nil {
			t.Fatalf("seed %d: UnmarshalJSON of protojson output: %v\n%s", seed, err, pb)
		}
		if !gproto.Equal(&got, want) {
			t.Fatalf("seed %d: UnmarshalJSON of protojson output read\n %v\nwant %v\nfrom %s", seed, &got, want, pb)
		}
	}
}

// TestEscapedInputs re-encodes random strings with every character
// escaped as \u and four hex digits (surrogate pairs beyond the BMP) and checks that
// UnmarshalJSON still reads them exactly.
func TestEscapedInputs(t *testing.T) {
	for seed := uint64(0); seed < 500; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		s := randString(r)
		b := []byte(`{"body":"`)
		for _, c := range s {
			if c > 0xFFFF {
				c -= 0x10000
				b = append(b, `\u`+strconv.FormatInt(int64(0xD800+(c>>10)), 16)+`\u`+strconv.FormatInt(int64(0xDC00+(c&0x3FF)), 16)...)
				continue
			}
			b = append(b, `\u`...)
			b = append(b, []byte(strconv.FormatInt(0x10000+int64(c), 16))[1:]...)
		}
		b = append(b, `"}`...)
		var e Envelope
		if err := UnmarshalJSON(b, &e); err != nil || e.Body != s {
			t.Fatalf("seed %d: %s decoded to %q, %v; want %q", seed, b, e.Body, err, s)
		}
	}
}

// TestInvalidUTF8Strings checks that strings holding bytes that are not
// UTF-8 (possible from Go callers, never from a decoder) are written with
// each such byte as U+FFFD, the same for encoding/json and UnmarshalJSON.
func TestInvalidUTF8Strings(t *testing.T) {
	bad := []string{"\xff", "\xe4\xbd", "\xc0\x80", "\xed\xa0\x80", "\x80", "\xf4\x90\x80\x80"}
	for seed := uint64(0); seed < 500; seed++ {
		r := rand.New(rand.NewPCG(seed, 2))
		s := randString(r) + bad[r.IntN(len(bad))] + randString(r)
		b := AppendJSON(nil, &Envelope{Body: s})
		if !utf8.Valid(b) {
			t.Fatalf("seed %d: output is not UTF-8: %q", seed, b)
		}
		var m mirror
		if err := json.Unmarshal(b, &m); err != nil || m.Body != toValidUTF8(s) {
			t.Fatalf("seed %d: encoding/json read %q, %v; want %q", seed, m.Body, err, toValidUTF8(s))
		}
		var e Envelope
		if err := UnmarshalJSON(b, &e); err != nil || e.Body != toValidUTF8(s) {
			t.Fatalf("seed %d: UnmarshalJSON read %q, %v; want %q", seed, e.Body, err, toValidUTF8(s))
		}
	}
}
