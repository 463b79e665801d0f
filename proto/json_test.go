package proto

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	gproto "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// msg is the typical MESSAGE of the examples and benchmarks.
func msg() *Envelope {
	return &Envelope{
		Type: Type_TYPE_MESSAGE, Conversation: "k3v0q8m1d2f4h6j8l0n2", Seq: 42,
		ClientMsgId: "7f3c9a2e-1b4d-4c8e-9f6a-2d5b8e1c3a70", Sender: "v:v-42", Kind: Kind_KIND_TEXT,
		Body: "Hello! I ordered the blue jacket last week and it still has not shipped. Can you check? Order #18230",
		Ts:   1795000000000,
	}
}

const msgJSON = `{"type":"message","conversation":"k3v0q8m1d2f4h6j8l0n2","seq":42,` +
	`"client_msg_id":"7f3c9a2e-1b4d-4c8e-9f6a-2d5b8e1c3a70","sender":"v:v-42","kind":"text",` +
	`"body":"Hello! I ordered the blue jacket last week and it still has not shipped. Can you check? Order #18230",` +
	`"ts":1795000000000}`

var goldens = []struct {
	name string
	env  *Envelope
	json string
}{
	{"nil", nil, `{}`},
	{"empty", &Envelope{}, `{}`},
	{"ping", &Envelope{Type: Type_TYPE_PING, Id: 5}, `{"type":"ping","id":5}`},
	{"message", msg(), msgJSON},
	{"hello", &Envelope{
		Type: Type_TYPE_HELLO, Id: 1,
		Hello:   &Hello{Site: "demo", Role: Role_ROLE_AGENT, User: "alice", Token: "1795000000.q4VhD1Y9ZLtCS0IEi4k1nO0hJ7bX8Xg2kT6WmV3p9uE", Client: "kefu-console/1.0"},
		Cursors: []*Cursor{{Conversation: "c1", Seq: 7}, {Conversation: "c2"}},
	}, `{"type":"hello","id":1,"hello":{"site":"demo","role":"agent","user":"alice",` +
		`"token":"1795000000.q4VhD1Y9ZLtCS0IEi4k1nO0hJ7bX8Xg2kT6WmV3p9uE","client":"kefu-console/1.0"},` +
		`"cursors":[{"conversation":"c1","seq":7},{"conversation":"c2"}]}`},
	{"empty hello and cursor", &Envelope{Hello: &Hello{}, Cursors: []*Cursor{{}}}, `{"hello":{},"cursors":[{}]}`},
	{"error", &Envelope{
		Type: Type_TYPE_ERROR, Id: 9, Conversation: "c1",
		Error: &Error{Code: Code_CODE_BUSY, Message: "server busy, retry", Retryable: true},
	}, `{"type":"error","id":9,"conversation":"c1","error":{"code":"busy","message":"server busy, retry","retryable":true}}`},
	{"empty error", &Envelope{Type: Type_TYPE_GOAWAY, Error: &Error{}}, `{"type":"goaway","error":{}}`},
	{"joined", &Envelope{Type: Type_TYPE_JOINED, Id: 2, Conversation: "c1", Seq: 1, More: true},
		`{"type":"joined","id":2,"conversation":"c1","seq":1,"more":true}`},
	{"replay", &Envelope{Type: Type_TYPE_REPLAY, Id: 4, Conversation: "c1", Seq: 10, Limit: 50},
		`{"type":"replay","id":4,"conversation":"c1","seq":10,"limit":50}`},
	{"event", &Envelope{Type: Type_TYPE_EVENT, Conversation: "c1", Sender: "a:alice", Ts: 1, Event: "typing"},
		`{"type":"event","conversation":"c1","sender":"a:alice","ts":1,"event":"typing"}`},
	{"every enum name", &Envelope{Type: Type_TYPE_REPLAY_END, Kind: Kind_KIND_EVENT,
		Hello: &Hello{Role: Role_ROLE_VISITOR}, Error: &Error{Code: Code_CODE_NOT_FOUND}},
		`{"type":"replay_end","kind":"event","hello":{"role":"visitor"},"error":{"code":"not_found"}}`},
	{"unknown enum values", &Envelope{Type: 99, Kind: -3, Hello: &Hello{Role: 7}, Error: &Error{Code: 1000}},
		`{"type":99,"kind":-3,"hello":{"role":7},"error":{"code":1000}}`},
	{"extremes", &Envelope{Id: math.MaxUint64, Seq: math.MaxUint64, Ts: math.MinInt64, Limit: math.MaxUint32},
		`{"id":18446744073709551615,"seq":18446744073709551615,"ts":-9223372036854775808,"limit":4294967295}`},
	{"escapes", &Envelope{Body: "a\"b\\c/d\n\r\t\b\f\x00\x1f\x7f"},
		`{"body":"a\"b\\c/d\n\r\t\b\f\u0000\u001f` + "\x7f" + `"}`},
	{"html", &Envelope{Body: "</script><b>&amp;</b>", Sender: "<"},
		`{"sender":"\u003c","body":"\u003c/script\u003e\u003cb\u003e\u0026amp;\u003c/b\u003e"}`},
	{"line separators", &Envelope{Body: "a\u2028b\u2029c"}, `{"body":"a\u2028b\u2029c"}`},
	{"unicode", &Envelope{Body: "你好 😀 é \ufffd \U0010ffff"}, `{"body":"你好 😀 é ` + "\ufffd \U0010ffff" + `"}`},
	{"invalid utf8 is replaced", &Envelope{Body: "a\xffb\xe4\xbd", Event: "\xc0\x80"},
		`{"body":"a\ufffdb\ufffd\ufffd","event":"\ufffd\ufffd"}`},
}

func TestAppendJSONGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			got := AppendJSON([]byte("prefix"), g.env)
			if string(got) != "prefix"+g.json {
				t.Fatalf("AppendJSON:\n got %s\nwant prefix%s", got, g.json)
			}
			if !json.Valid(got[len("prefix"):]) {
				t.Fatal("encoding/json says the output is not valid JSON")
			}
			var back Envelope
			if err := UnmarshalJSON([]byte(g.json), &back); err != nil {
				t.Fatalf("UnmarshalJSON: %v", err)
			}
			want := g.env
			if want == nil {
				want = &Envelope{}
			}
			if strings.Contains(g.name, "invalid utf8") {
				want = gproto.Clone(want).(*Envelope)
				want.Body, want.Event = toValidUTF8(want.Body), toValidUTF8(want.Event)
			}
			if !gproto.Equal(&back, want) {
				t.Fatalf("round trip:\n got %v\nwant %v", &back, want)
			}
		})
	}
}

// toValidUTF8 replaces every byte that is not part of valid UTF-8 by U+FFFD,
// as AppendJSON does.
func toValidUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

func TestUnmarshalJSONAccepts(t *testing.T) {
	tests := []struct {
		name, in string
		want     *Envelope
	}{
		{"whitespace", " \t\r\n{ \"type\" :\t\"send\" ,\n\"id\" : 3 } \n", &Envelope{Type: Type_TYPE_SEND, Id: 3}},
		{"empty object", `{}`, &Envelope{}},
		{"numbers as strings", `{"id":"18446744073709551615","seq":"7","ts":"-5","limit":"50"}`,
			&Envelope{Id: math.MaxUint64, Seq: 7, Ts: -5, Limit: 50}},
		{"escaped numeric string", `{"seq":"\u0034\u0032"}`, &Envelope{Seq: 42}},
		{"enums as numbers", `{"type":6,"kind":2,"hello":{"role":1},"error":{"code":5}}`,
			&Envelope{Type: Type_TYPE_SEND, Kind: Kind_KIND_IMAGE, Hello: &Hello{Role: Role_ROLE_VISITOR}, Error: &Error{Code: Code_CODE_BUSY}}},
		{"unknown enum numbers", `{"type":2147483647,"kind":-2147483648}`, &Envelope{Type: math.MaxInt32, Kind: math.MinInt32}},
		{"full enum names", `{"type":"TYPE_REPLAY_END","kind":"KIND_FILE","hello":{"role":"ROLE_AGENT"},"error":{"code":"CODE_TOO_LARGE"}}`,
			&Envelope{Type: Type_TYPE_REPLAY_END, Kind: Kind_KIND_FILE, Hello: &Hello{Role: Role_ROLE_AGENT}, Error: &Error{Code: Code_CODE_TOO_LARGE}}},
		{"unspecified by name", `{"type":"unspecified","kind":"KIND_UNSPECIFIED"}`, &Envelope{}},
		{"escaped enum name", `{"type":"s\u0065nd"}`, &Envelope{Type: Type_TYPE_SEND}},
		{"escaped key", `{"\u0074ype":"ack","client\u005fmsg_id":"m"}`, &Envelope{Type: Type_TYPE_ACK, ClientMsgId: "m"}},
		{"camelCase alias", `{"clientMsgId":"m1"}`, &Envelope{ClientMsgId: "m1"}},
		{"nulls", `{"type":null,"id":null,"body":null,"hello":null,"cursors":null,"error":null,"more":null,"ts":null}`, &Envelope{}},
		{"nested nulls", `{"hello":{"site":null,"role":null},"error":{"retryable":null},"cursors":[{"seq":null}]}`,
			&Envelope{Hello: &Hello{}, Error: &Error{}, Cursors: []*Cursor{{}}}},
		{"false and zero", `{"more":false,"seq":0,"ts":-0,"id":-0,"body":""}`, &Envelope{}},
		{"unknown keys skipped", `{"x":{"a":[1,2.5e-3,true,false,null,"s"],"b":{}},"type":"ping","y":[[],{}],"z":-0.0E+1,` +
			`"hello":{"future":[1,"2"],"site":"s"},"cursors":[{"seq":1,"more":"x","n":null}],"error":{"hint":{"a":1}}}`,
			&Envelope{Type: Type_TYPE_PING, Hello: &Hello{Site: "s"}, Cursors: []*Cursor{{Seq: 1}}, Error: &Error{}}},
		{"unknown key twice", `{"x":1,"x":2}`, &Envelope{}},
		{"long escaped unknown key", `{"` + strings.Repeat(`\u0061`, 40) + `":1}`, &Envelope{}},
		{"escapes", `{"body":"\"\\\/\b\f\n\r\t\u0000\u00e9\u4F60\ud83d\ude00"}`, &Envelope{Body: "\"\\/\b\f\n\r\t\x00é你😀"}},
		{"raw unicode and separators", "{\"body\":\"你好😀\u2028\u2029\x7f\"}", &Envelope{Body: "你好😀\u2028\u2029\x7f"}},
		{"lone high surrogate", `{"body":"a\ud800b"}`, &Envelope{Body: "a\ufffdb"}},
		{"lone low surrogate", `{"body":"\udc00"}`, &Envelope{Body: "\ufffd"}},
		{"high high low", `{"body":"\ud800\ud83d\ude00"}`, &Envelope{Body: "\ufffd😀"}},
		{"high then escape", `{"body":"\ud800\n"}`, &Envelope{Body: "\ufffd\n"}},
		{"surrogate at end", `{"body":"\ud83d"}`, &Envelope{Body: "\ufffd"}},
		{"long escaped body", `{"body":"` + strings.Repeat(`\n`, 300) + `"}`, &Envelope{Body: strings.Repeat("\n", 300)}},
		{"many cursors", `{"cursors":[{"conversation":"a","seq":1},{},{"conversation":"b"}]}`,
			&Envelope{Cursors: []*Cursor{{Conversation: "a", Seq: 1}, {}, {Conversation: "b"}}}},
		{"empty cursors", `{"cursors":[ ]}`, &Envelope{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Envelope
			if err := UnmarshalJSON([]byte(tt.in), &e); err != nil {
				t.Fatalf("UnmarshalJSON(%s): %v", tt.in, err)
			}
			if !gproto.Equal(&e, tt.want) {
				t.Fatalf("UnmarshalJSON(%s):\n got %v\nwant %v", tt.in, &e, tt.want)
			}
		})
	}
}

func TestUnmarshalJSONRejects(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", ``, ErrJSONSyntax},
		{"space only", " \n", ErrJSONSyntax},
		{"array", `[]`, ErrJSONNotObject},
		{"string", `"x"`, ErrJSONNotObject},
		{"null", `null`, ErrJSONNotObject},
		{"bom", "\ufeff{}", ErrJSONNotObject},
		{"unterminated object", `{"type":"send"`, ErrJSONSyntax},
		{"unterminated string", `{"body":"abc`, ErrJSONSyntax},
		{"trailing comma", `{"type":"send",}`, ErrJSONSyntax},
		{"leading comma", `{,"type":"send"}`, ErrJSONSyntax},
		{"missing comma", `{"id":1 "seq":2}`, ErrJSONSyntax},
		{"missing colon", `{"id" 1}`, ErrJSONSyntax},
		{"trailing data", `{}{}`, ErrJSONSyntax},
		{"trailing garbage", `{} x`, ErrJSONSyntax},
		{"single quotes", `{'id':1}`, ErrJSONSyntax},
		{"bare key", `{id:1}`, ErrJSONSyntax},
		{"raw newline in string", "{\"body\":\"a\nb\"}", ErrJSONSyntax},
		{"raw tab in key", "{\"bo\tdy\":1}", ErrJSONSyntax},
		{"bad escape", `{"body":"\x41"}`, ErrJSONSyntax},
		{"short unicode escape", `{"body":"\u12"}`, ErrJSONSyntax},
		{"bad hex", `{"body":"\u12G4"}`, ErrJSONSyntax},
		{"escape at end", `{"body":"\`, ErrJSONSyntax},
		{"bad literal", `{"more":tru}`, ErrJSONSyntax},
		{"capital literal", `{"x":True}`, ErrJSONSyntax},
		{"capital literal for bool", `{"more":True}`, ErrJSONType},
		{"unknown bad value", `{"x":undefined}`, ErrJSONSyntax},
		{"leading zero", `{"id":01}`, ErrJSONSyntax},
		{"plus sign", `{"id":+1}`, ErrJSONType},
		{"lone minus", `{"x":-}`, ErrJSONSyntax},
		{"bad fraction", `{"x":1.}`, ErrJSONSyntax},
		{"bad exponent", `{"x":1e}`, ErrJSONSyntax},
		{"hex number", `{"id":0x10}`, ErrJSONSyntax},
		{"trailing comma in array", `{"cursors":[{},]}`, ErrJSONSyntax},
		{"comma in empty array", `{"cursors":[,]}`, ErrJSONType},
		{"invalid utf8 value", "{\"body\":\"a\xffb\"}", ErrJSONUTF8},
		{"invalid utf8 key", "{\"\xc3\":1}", ErrJSONUTF8},
		{"overlong utf8", "{\"body\":\"\xc0\xaf\"}", ErrJSONUTF8},
		{"utf8 surrogate", "{\"body\":\"\xed\xa0\x80\"}", ErrJSONUTF8},
		{"truncated utf8", "{\"body\":\"\xe4\xbd\"}", ErrJSONUTF8},
		{"string for number", `{"seq":"abc"}`, ErrJSONType},
		{"spaced numeric string", `{"seq":" 1"}`, ErrJSONType},
		{"empty numeric string", `{"seq":""}`, ErrJSONType},
		{"bool for number", `{"seq":true}`, ErrJSONType},
		{"number for string", `{"body":1}`, ErrJSONType},
		{"object for string", `{"conversation":{}}`, ErrJSONType},
		{"string for bool", `{"more":"true"}`, ErrJSONType},
		{"number for bool", `{"more":1}`, ErrJSONType},
		{"array for hello", `{"hello":[]}`, ErrJSONType},
		{"object for cursors", `{"cursors":{}}`, ErrJSONType},
		{"null cursor", `{"cursors":[null]}`, ErrJSONType},
		{"number cursor", `{"cursors":[1]}`, ErrJSONType},
		{"string for error", `{"error":"busy"}`, ErrJSONType},
		{"bool for enum", `{"type":true}`, ErrJSONType},
		{"negative unsigned", `{"seq":-1}`, ErrJSONRange},
		{"negative unsigned string", `{"id":"-1"}`, ErrJSONRange},
		{"uint64 overflow", `{"id":18446744073709551616}`, ErrJSONRange},
		{"uint64 overflow string", `{"seq":"99999999999999999999"}`, ErrJSONRange},
		{"limit overflow", `{"limit":4294967296}`, ErrJSONRange},
		{"int64 overflow", `{"ts":9223372036854775808}`, ErrJSONRange},
		{"int64 underflow", `{"ts":-9223372036854775809}`, ErrJSONRange},
		{"enum overflow", `{"type":2147483648}`, ErrJSONRange},
		{"enum underflow", `{"kind":-2147483649}`, ErrJSONRange},
		{"fraction", `{"seq":1.5}`, ErrJSONRange},
		{"integral fraction", `{"seq":1.0}`, ErrJSONRange},
		{"exponent", `{"ts":1e3}`, ErrJSONRange},
		{"fraction in string", `{"seq":"1.5"}`, ErrJSONRange},
		{"unknown enum name", `{"type":"typing"}`, ErrJSONEnum},
		{"wrong case enum", `{"type":"SEND"}`, ErrJSONEnum},
		{"lower full enum", `{"kind":"kind_text"}`, ErrJSONEnum},
		{"other enum's name", `{"kind":"visitor"}`, ErrJSONEnum},
		{"prefix only", `{"type":"TYPE_"}`, ErrJSONEnum},
		{"enum number as string", `{"type":"6"}`, ErrJSONEnum},
		{"duplicate key", `{"seq":1,"seq":2}`, ErrJSONDuplicate},
		{"duplicate null", `{"type":null,"type":"send"}`, ErrJSONDuplicate},
		{"duplicate via escape", `{"id":1,"\u0069d":2}`, ErrJSONDuplicate},
		{"duplicate alias", `{"client_msg_id":"a","clientMsgId":"b"}`, ErrJSONDuplicate},
		{"duplicate in hello", `{"hello":{"user":"a","user":"b"}}`, ErrJSONDuplicate},
		{"duplicate in error", `{"error":{"code":1,"code":2}}`, ErrJSONDuplicate},
		{"duplicate in cursor", `{"cursors":[{"seq":1,"seq":1}]}`, ErrJSONDuplicate},
		{"duplicate object", `{"hello":{},"hello":{}}`, ErrJSONDuplicate},
		{"deep unknown", `{"x":[[[]]]}`, ErrJSONDepth},
		{"deep unknown object", `{"x":{"y":{"z":{}}}}`, ErrJSONDepth},
		{"deep in hello", `{"hello":{"x":{"y":[]}}}`, ErrJSONDepth},
		{"deep in cursor", `{"cursors":[{"x":[]}]}`, ErrJSONDepth},
		{"very deep", `{"x":` + strings.Repeat("[", 100000), ErrJSONDepth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Envelope
			err := UnmarshalJSON([]byte(tt.in), &e)
			if err != tt.want {
				t.Fatalf("UnmarshalJSON(%q) = %v, want %v", tt.in, err, tt.want)
			}
			if tt.want == ErrJSONSyntax && json.Valid([]byte(tt.in)) {
				t.Fatalf("encoding/json accepts %q, which we call a syntax error", tt.in)
			}
		})
	}
}

// TestEnumNames checks the name tables against the generated descriptors:
// every value named, as its proto name in lower case without the prefix,
// and Parse* inverts *Name for both spellings.
func TestEnumNames(t *testing.T) {
	check := func(ed protoreflect.EnumDescriptor, prefix string, name func(int32) string, parse func(string) (int32, bool)) {
		t.Helper()
		vals := ed.Values()
		for i := 0; i < vals.Len(); i++ {
			v := vals.Get(i)
			full := string(v.Name())
			short := strings.ToLower(strings.TrimPrefix(full, prefix))
			n := int32(v.Number())
			if got := name(n); got != short {
				t.Errorf("%s: name %q, want %q", full, got, short)
			}
			for _, s := range []string{short, full} {
				if got, ok := parse(s); !ok || got != n {
					t.Errorf("parse(%q) = %d, %v; want %d", s, got, ok, n)
				}
			}
		}
		if name(int32(vals.Len())) != "" || name(-1) != "" {
			t.Errorf("%s: unknown values must have no name", ed.Name())
		}
		for _, s := range []string{"", prefix, strings.ToUpper(name(1)), prefix + "x", "nope"} {
			if _, ok := parse(s); ok {
				t.Errorf("parse(%q) succeeded", s)
			}
		}
	}
	check(Type(0).Descriptor(), "TYPE_", func(v int32) string { return TypeName(Type(v)) },
		func(s string) (int32, bool) { v, ok := ParseType(s); return int32(v), ok })
	check(Role(0).Descriptor(), "ROLE_", func(v int32) string { return RoleName(Role(v)) },
		func(s string) (int32, bool) { v, ok := ParseRole(s); return int32(v), ok })
	check(Kind(0).Descriptor(), "KIND_", func(v int32) string { return KindName(Kind(v)) },
		func(s string) (int32, bool) { v, ok := ParseKind(s); return int32(v), ok })
	check(Code(0).Descriptor(), "CODE_", func(v int32) string { return CodeName(Code(v)) },
		func(s string) (int32, bool) { v, ok := ParseCode(s); return int32(v), ok })
}

// TestRoundTripEveryValue sends every field alone, and every enum value,
// through AppendJSON and UnmarshalJSON.
func TestRoundTripEveryValue(t *testing.T) {
	var envs []*Envelope
	for v := range Type_name {
		envs = append(envs, &Envelope{Type: Type(v)})
	}
	for v := range Kind_name {
		envs = append(envs, &Envelope{Kind: Kind(v)})
	}
	for v := range Role_name {
		envs = append(envs, &Envelope{Hello: &Hello{Role: Role(v)}})
	}
	for v := range Code_name {
		envs = append(envs, &Envelope{Error: &Error{Code: Code(v)}})
	}
	envs = append(envs,
		&Envelope{Id: 1}, &Envelope{Conversation: "c"}, &Envelope{Seq: 1}, &Envelope{ClientMsgId: "m"},
		&Envelope{Sender: "s"}, &Envelope{Body: "b"}, &Envelope{Ts: -1}, &Envelope{Ts: 1},
		&Envelope{Hello: &Hello{Site: "s"}}, &Envelope{Hello: &Hello{User: "u"}}, &Envelope{Hello: &Hello{Token: "t"}},
		&Envelope{Hello: &Hello{Client: "c"}}, &Envelope{Cursors: []*Cursor{{Conversation: "c"}}},
		&Envelope{Cursors: []*Cursor{{Seq: 3}}}, &Envelope{Error: &Error{Message: "m"}},
		&Envelope{Error: &Error{Retryable: true}}, &Envelope{More: true}, &Envelope{Limit: 1}, &Envelope{Event: "e"},
	)
	for _, want := range envs {
		b := AppendJSON(nil, want)
		var got Envelope
		if err := UnmarshalJSON(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !gproto.Equal(&got, want) {
			t.Fatalf("%s decoded to %v, want %v", b, &got, want)
		}
	}
}

// TestHTMLSafe checks that no string can put markup, an HTML comment or a
// JavaScript line terminator into the output.
func TestHTMLSafe(t *testing.T) {
	nasty := "</script><script>alert(1)</script><!-- --> & &amp; \u2028\u2029 <\x00>"
	e := &Envelope{Conversation: nasty, ClientMsgId: nasty, Sender: nasty, Body: nasty, Event: nasty,
		Hello:   &Hello{Site: nasty, User: nasty, Token: nasty, Client: nasty},
		Cursors: []*Cursor{{Conversation: nasty}}, Error: &Error{Message: nasty}}
	b := AppendJSON(nil, e)
	for _, bad := range []string{"<", ">", "&", "\u2028", "\u2029", "\x00"} {
		if bytes.Contains(b, []byte(bad)) {
			t.Errorf("output contains %q: %s", bad, b)
		}
	}
	var got Envelope
	if err := UnmarshalJSON(b, &got); err != nil || !gproto.Equal(&got, e) {
		t.Fatalf("round trip: %v, %v", err, &got)
	}
}

// TestUnmarshalJSONCopies checks that nothing decoded aliases the input,
// which in the server is a network buffer reused after the call.
func TestUnmarshalJSONCopies(t *testing.T) {
	in := []byte(`{"conversation":"c1","client_msg_id":"m","sender":"s","body":"b\n","event":"e",` +
		`"hello":{"site":"x","user":"u","token":"t","client":"k"},"cursors":[{"conversation":"c2"}],"error":{"message":"m"}}`)
	var e Envelope
	if err := UnmarshalJSON(in, &e); err != nil {
		t.Fatal(err)
	}
	want := gproto.Clone(&e)
	for i := range in {
		in[i] = '#'
	}
	if !gproto.Equal(&e, want) {
		t.Fatalf("decoded envelope changed with its input: %v", &e)
	}
}

// TestUnmarshalJSONResets checks that decoding replaces what e held.
func TestUnmarshalJSONResets(t *testing.T) {
	e := msg()
	e.Hello = &Hello{Site: "x"}
	if err := UnmarshalJSON([]byte(`{"type":"ping"}`), e); err != nil {
		t.Fatal(err)
	}
	if !gproto.Equal(e, &Envelope{Type: Type_TYPE_PING}) {
		t.Fatalf("not reset: %v", e)
	}
}

func TestAppendJSONAllocs(t *testing.T) {
	for _, g := range goldens {
		buf := make([]byte, 0, 1024)
		if n := testing.AllocsPerRun(100, func() { buf = AppendJSON(buf[:0], g.env) }); n != 0 {
			t.Errorf("%s: AppendJSON allocates %v times", g.name, n)
		}
	}
}

// TestUnmarshalJSONAllocs pins the allocations of decoding: one per
// non-empty string and one per sub-message (plus the cursors slice),
// nothing for keys, enums, numbers, whitespace or skipped values.
func TestUnmarshalJSONAllocs(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{`{"type":"ping","id":5}`, 0},
		{` { "type" : "TYPE_JOIN" , "id" : "7", "seq":3, "limit":100, "more":true, "x":[1,{"y":"z"}] } `, 0},
		{`{"type":"s\u0065nd","\u0069d":1}`, 0},
		{msgJSON, 4},
		{`{"type":"send","id":3,"conversation":"c1","client_msg_id":"m1","kind":"text","body":"line\nbreak \u00e9"}`, 3},
		{`{"type":"hello","id":1,"hello":{"site":"demo","role":"visitor","user":"v-42"}}`, 3},
		{`{"type":"error","error":{"code":"busy","message":"busy","retryable":true}}`, 2},
	}
	for _, tt := range tests {
		var e Envelope
		in := []byte(tt.in)
		n := testing.AllocsPerRun(100, func() {
			if err := UnmarshalJSON(in, &e); err != nil {
				t.Fatal(err)
			}
		})
		if n != tt.want {
			t.Errorf("UnmarshalJSON(%s) allocates %v times, want %v", tt.in, n, tt.want)
		}
	}
}

func TestErrorsAreDistinct(t *testing.T) {
	errs := []error{ErrJSONSyntax, ErrJSONNotObject, ErrJSONType, ErrJSONRange, ErrJSONEnum, ErrJSONUTF8, ErrJSONDuplicate, ErrJSONDepth}
	for i, a := range errs {
		for j, b := range errs {
			if i != j && errors.Is(a, b) {
				t.Fatalf("%v is %v", a, b)
			}
		}
	}
}

// TestSWAR compares the eight-byte checks plain8 and safe8 with their byte
// tables, on words built around every byte value in every lane.
func TestSWAR(t *testing.T) {
	checks := []struct {
		name string
		word func(uint64) bool
		byte func(byte) bool
	}{
		{"plain8", plain8, func(c byte) bool { return strByte[c] == 0 }},
		{"safe8", safe8, func(c byte) bool { return c < utf8.RuneSelf && plainASCII[c] }},
	}
	for _, ck := range checks {
		for lane := 0; lane < 8; lane++ {
			for _, fill := range []byte{'a', ' ', '~', 0x21, 0x5d, 0x5b, 0x3d, 0x3f} {
				for c := 0; c < 256; c++ {
					var w [8]byte
					for i := range w {
						w[i] = fill
					}
					w[lane] = byte(c)
					want := true
					for _, b := range w {
						want = want && ck.byte(b)
					}
					if got := ck.word(loadString8(string(w[:]))); got != want {
						t.Fatalf("%s(%q) = %v, want %v", ck.name, w, got, want)
					}
				}
			}
		}
		r := rand.New(rand.NewPCG(1, 2))
		for n := 0; n < 100000; n++ {
			var w [8]byte
			for i := range w {
				w[i] = byte(0x18 + r.IntN(0x70)) // mostly plain, some of everything
				if r.IntN(16) == 0 {
					w[i] = byte(r.Uint32())
				}
			}
			want := true
			for _, b := range w {
				want = want && ck.byte(b)
			}
			if got := ck.word(loadString8(string(w[:]))); got != want {
				t.Fatalf("%s(%q) = %v, want %v", ck.name, w, got, want)
			}
		}
	}
}
