package shard

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/storage"
)

// countSink counts writes; it stands where a connection would.
type countSink struct {
	id     uint64
	frames atomic.Int64
}

func (c *countSink) ID() uint64          { return c.id }
func (c *countSink) Format() wire.Format { return wire.FormatFrame }
func (c *countSink) Closed() bool        { return false }
func (c *countSink) Write(b [][]byte) bool {
	c.frames.Add(int64(len(b)))
	return true
}

// BenchmarkRelay measures the shard path of one message: ring, seq, dedup,
// protobuf, group commit, ack and fan-out to one subscriber, over a real
// Pebble log, with 64 conversations on 4 shards.
func BenchmarkRelay(b *testing.B) {
	for _, d := range []storage.Durability{storage.DurabilityAsync, storage.DurabilitySync} {
		b.Run(d.String(), func(b *testing.B) {
			st, err := storage.Open(storage.Options{Dir: b.TempDir(), Durability: d})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			r, err := New(Options{Shards: 4}, st)
			if err != nil {
				b.Fatal(err)
			}
			r.Start()
			defer r.Stop(context.Background())
			const convs = 64
			v := &countSink{id: 1}
			a := &countSink{id: 2}
			ids := make([]string, convs)
			for i := range ids {
				ids[i] = "conv" + string(rune('A'+i%26)) + string(rune('a'+i/26))
				r.Submit(Request{Op: OpCreate, Sink: v, Who: vis, Env: &proto.Envelope{Conversation: ids[i]}})
				r.Submit(Request{Op: OpJoin, Sink: a, Who: alice, Env: &proto.Envelope{Conversation: ids[i]}})
			}
			for v.frames.Load() < convs || a.frames.Load() < convs {
			}
			body := string(make([]byte, 100))
			b.ReportAllocs()
			b.ResetTimer()
			// b.N, not b.Loop: the wait for the last acks must be timed too.
			for i := range b.N {
				req := Request{Op: OpSend, Sink: v, Who: vis, Env: &proto.Envelope{
					Type: proto.Type_TYPE_SEND, Id: uint64(i), Conversation: ids[i%convs], Body: body}}
				for !r.Submit(req) {
				}
			}
			for v.frames.Load() < int64(convs+b.N) || a.frames.Load() < int64(convs+b.N) {
			}
			b.StopTimer()
		})
	}
}
