package bridge

import (
	"testing"

	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/proto"
)

func TestScanHead(t *testing.T) {
	tests := []struct {
		in           string
		ok           bool
		typ          proto.Type
		id, seq      uint64
		conv, sender string
	}{
		{`{"type":"message","conversation":"c1","seq":7,"client_msg_id":"x\"y","sender":"a:alice","kind":"text","body":"hi"}`,
			true, proto.Type_TYPE_MESSAGE, 0, 7, "c1", "a:alice"},
		{`{"type":"ack","id":5,"conversation":"c1","seq":3,"ts":1}`, true, proto.Type_TYPE_ACK, 5, 3, "c1", ""},
		{`{"type":"event","conversation":"c","seq":0,"sender":"v:d","ts":9,"event":"typing"}`,
			true, proto.Type_TYPE_EVENT, 0, 0, "c", "v:d"},
		{`{"type":"notice","event":"queue"}`, true, 0, 0, 0, "", ""},
		{`{"type":"joined","id":18446744073709551615}`, true, proto.Type_TYPE_JOINED, 1<<64 - 1, 0, "", ""},
		{`{}`, true, 0, 0, 0, "", ""},
		{`{"seq":1}`, true, 0, 0, 1, "", ""},
		{`{"type":"ack","id":18446744073709551616}`, false, 0, 0, 0, "", ""}, // overflow
		{`{"type":"ack","id":01}`, false, 0, 0, 0, "", ""},                   // leading zero
		{`{"type":8}`, false, 0, 0, 0, "", ""},                               // a number: decode in full
		{`{"ty\u0070e":"ack"}`, false, 0, 0, 0, "", ""},                      // escaped key
		{`{"type":"ack"`, false, 0, 0, 0, "", ""},
		{`{"type":"ack"}x`, false, 0, 0, 0, "", ""},
		{`{"type":"a` + "\n" + `ck"}`, false, 0, 0, 0, "", ""},
		{`{"type" "ack"}`, false, 0, 0, 0, "", ""},
		{`[1]`, false, 0, 0, 0, "", ""},
		{``, false, 0, 0, 0, "", ""},
		{`{`, false, 0, 0, 0, "", ""},
		{`{"id":-1}`, false, 0, 0, 0, "", ""},
	}
	for _, tc := range tests {
		h, ok := scanHead([]byte(tc.in))
		if ok != tc.ok {
			t.Errorf("%s: ok %v", tc.in, ok)
			continue
		}
		if ok && (h.typ != tc.typ || h.id != tc.id || h.seq != tc.seq || string(h.conv) != tc.conv || string(h.sender) != tc.sender) {
			t.Errorf("%s: got %+v", tc.in, h)
		}
	}
}

// TestScanHeadAppendJSON: whatever AppendJSON writes, the scan agrees with
// the full decoder, without allocating.
func TestScanHeadAppendJSON(t *testing.T) {
	envs := []*proto.Envelope{
		{Type: proto.Type_TYPE_MESSAGE, Conversation: "0123456789abcdefghij", Seq: 42, ClientMsgId: "mq.x.1",
			Sender: "s:system", Kind: proto.Kind_KIND_EVENT, Body: `{"type":"assigned"}`, Ts: 1700000000000},
		{Type: proto.Type_TYPE_ACK, Id: 9, Conversation: "c", Seq: 1, ClientMsgId: "<&>", Ts: 1},
		{Type: proto.Type_TYPE_JOINED, Id: 3, Conversation: "c", Seq: 10, More: true, State: "queued", Position: 2},
		{Type: proto.Type_TYPE_ERROR, Id: 4, Conversation: "c", Error: &proto.Error{Code: proto.Code_CODE_NOT_FOUND}},
		{Type: proto.Type_TYPE_EVENT, Conversation: "c", Sender: "a:bob", Event: "typing"},
	}
	for _, env := range envs {
		b := proto.AppendJSON(nil, env)
		h, ok := scanHead(b)
		if !ok || h.typ != env.Type || h.id != env.Id || h.seq != env.Seq || string(h.conv) != env.Conversation ||
			string(h.sender) != env.Sender {
			t.Errorf("%s: %+v %v", b, h, ok)
		}
		if n := testing.AllocsPerRun(100, func() { scanHead(b) }); n != 0 {
			t.Errorf("%s: %v allocations", b, n)
		}
	}
}

// FuzzScanHead: the scan never panics; where the full decoder accepts the
// input, every field the scan read agrees with it (the scan stops at the
// first key it does not know, so it may read fewer), and it reads all of
// them from the canonical encoding of the decoded envelope.
func FuzzScanHead(f *testing.F) {
	f.Add([]byte(`{"type":"message","conversation":"c1","seq":7,"sender":"a:alice","body":"hi"}`))
	f.Add([]byte(`{"type":"ack","id":5,"conversation":"c1","seq":3}`))
	f.Add([]byte(`{"type":"joined","id":1,"conversation":"c","seq":2,"state":"open"}`))
	f.Add([]byte(`{"seq":1,"type":"replay_end","more":true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := scanHead(b)
		var env proto.Envelope
		if proto.UnmarshalJSON(b, &env) != nil {
			return // the scan stops early: it may accept a broken tail
		}
		if ok && (h.typ != 0 && h.typ != env.Type || h.id != 0 && h.id != env.Id || h.seq != 0 && h.seq != env.Seq ||
			len(h.conv) > 0 && !hasBackslash(h.conv) && string(h.conv) != env.Conversation ||
			len(h.sender) > 0 && !hasBackslash(h.sender) && string(h.sender) != env.Sender) {
			t.Fatalf("%q: scan %+v, decoded %v", b, h, &env)
		}
		c := proto.AppendJSON(nil, &env)
		h, ok = scanHead(c)
		if !ok || h.typ != typeOf([]byte(proto.TypeName(env.Type))) || h.id != env.Id || h.seq != env.Seq {
			t.Fatalf("%s: scan %+v %v", c, h, ok)
		}
		var conv, sender proto.Envelope
		_ = proto.UnmarshalJSON(append(append([]byte(`{"conversation":"`), h.conv...), `"}`...), &conv)
		_ = proto.UnmarshalJSON(append(append([]byte(`{"sender":"`), h.sender...), `"}`...), &sender)
		if conv.Conversation != env.Conversation || sender.Sender != env.Sender {
			t.Fatalf("%s: scan %q %q", c, h.conv, h.sender)
		}
	})
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

func BenchmarkScanHead(b *testing.B) {
	msg := proto.AppendJSON(nil, &proto.Envelope{Type: proto.Type_TYPE_MESSAGE, Conversation: "0123456789abcdefghij",
		Seq: 42, ClientMsgId: "mq.abcdefghijklmnop.1", Sender: "a:alice", Kind: proto.Kind_KIND_TEXT,
		Body: "hello from the console, how can we help?", Ts: 1700000000000})
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		scanHead(msg)
	}
}

func TestTopicKind(t *testing.T) {
	id := &mqtt.Identity{Site: "demo", Device: "dev-1"}
	for topic, want := range map[string]uint8{
		"kefu/demo/dev-1/up": topicUp, "kefu/demo/dev-1/events": topicEvents, "kefu/demo/dev-1/down": topicDown,
		"kefu/demo/dev-1/up/x": topicNone, "kefu/demo/dev-1/upx": topicNone, "kefu/demo/dev-10/up": topicNone,
		"kefu/demo/dev-/up": topicNone, "kefu/demo/dev-1/": topicNone, "kefu/demo/dev-1": topicNone,
		"kefu/dem/dev-1/up": topicNone, "kefx/demo/dev-1/up": topicNone, "kefu/demo/dev-2/up": topicNone,
		"kefu/demoxdev-1/up": topicNone, "": topicNone,
	} {
		if got := topicKind(id, topic); got != want {
			t.Errorf("%q: %d, want %d", topic, got, want)
		}
	}
	if topicKind(&mqtt.Identity{Site: "demo"}, "kefu/demo//up") != topicNone {
		t.Error("an identity without a device claimed a topic")
	}
	b := &Bridge{}
	if n := testing.AllocsPerRun(100, func() { b.Claims(id, "kefu/demo/dev-1/up") }); n != 0 {
		t.Errorf("Claims allocates %v", n)
	}
}
