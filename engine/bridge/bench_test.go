package bridge

import (
	"testing"

	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/storage"
	"github.com/mochi-mqtt/server/v2/packets"
)

// nopRouter takes every request and drops it.
type nopRouter struct{}

func (nopRouter) Submit(shard.Request) bool { return true }

// countPublisher matches one session per message.
type countPublisher struct{ n int }

func (p *countPublisher) Publish(*mqtt.Message) (int, error) { p.n++; return 1, nil }

func benchBridge(b *testing.B) *Bridge {
	st, err := storage.Open(storage.Options{Dir: b.TempDir(), CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	br, err := New(Options{Store: st, Router: nopRouter{}})
	if err != nil {
		b.Fatal(err)
	}
	br.pub = &countPublisher{} // the writer is not started: records stay queued
	return br
}

// BenchmarkTakeUp: a text up on the event loop (validation, copy, the
// SEND request), into an existing conversation.
func BenchmarkTakeUp(b *testing.B) {
	br := benchBridge(b)
	id := &mqtt.Identity{Site: site, Device: devName}
	d := br.device(site, devName)
	d.conv = "0123456789abcdefghij"
	in := &mqtt.Inbound{Client: id, Topic: root + "up", Payload: []byte("the printer shows E42"), QoS: 0,
		Properties: &packets.Properties{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(in.Payload)))
	for b.Loop() {
		if _, held := br.Take(in); !held {
			b.Fatal("refused")
		}
		clear(d.reqs)
	}
}

// BenchmarkWriteMessage: a worker hands the device an agent's MESSAGE,
// which is published on down (head scan, one mqtt.Message).
func BenchmarkWriteMessage(b *testing.B) {
	br := benchBridge(b)
	d := br.device(site, devName)
	d.conv, d.state = "0123456789abcdefghij", stLive
	msg := proto.AppendJSON(nil, &proto.Envelope{Type: proto.Type_TYPE_MESSAGE, Conversation: d.conv, Seq: 1,
		ClientMsgId: "e5ee8a74e15326a8-1", Sender: "a:alice", Kind: proto.Kind_KIND_TEXT,
		Body: "hello from the console, how can we help?", Ts: 1700000000000})
	bufs := [][]byte{msg}
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		d.cursor = 0
		d.Write(bufs)
	}
	if br.pub.(*countPublisher).n == 0 {
		b.Fatal("nothing published")
	}
}
