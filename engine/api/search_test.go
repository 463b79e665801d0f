package api

import (
	"bytes"
	"testing"

	"github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// FuzzMessageText: the field scanner of the search agrees with the
// protobuf decoder on every input the decoder accepts, and never panics
// on the others.
func FuzzMessageText(f *testing.F) {
	for _, e := range []*proto.Envelope{
		{Type: proto.Type_TYPE_MESSAGE, Conversation: "c1", Seq: 3, Sender: "v:v1", Kind: proto.Kind_KIND_TEXT, Body: "Refund please", Ts: 1767323045000},
		{Kind: proto.Kind_KIND_EVENT, Body: `{"type":"closed"}`},
		{Body: "ünïcödé", ClientMsgId: "m-1", Hello: &proto.Hello{Site: "s"}},
	} {
		b, _ := gproto.Marshal(e)
		f.Add(b)
	}
	f.Add([]byte{0x42, 0x02, 'h', 'i', 0x42, 0x01, 'x', 0x38, 0x02}) // body twice: the last wins
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, body := messageText(b)
		var e proto.Envelope
		if gproto.Unmarshal(b, &e) != nil {
			return
		}
		if kind != e.Kind || !bytes.Equal(body, []byte(e.Body)) {
			t.Fatalf("scanner (%v, %q), decoder (%v, %q)", kind, body, e.Kind, e.Body)
		}
	})
}
