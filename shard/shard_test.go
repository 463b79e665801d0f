package shard

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/storage"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// recorder is a Sink that decodes what it is given (binary frames).
type recorder struct {
	id     uint64
	mu     sync.Mutex
	envs   []*proto.Envelope
	closed atomic.Bool
	notify chan struct{}
}

func newRecorder(id uint64) *recorder {
	return &recorder{id: id, notify: make(chan struct{}, 1)}
}

func (r *recorder) ID() uint64          { return r.id }
func (r *recorder) Format() wire.Format { return wire.FormatFrame }
func (r *recorder) Closed() bool        { return r.closed.Load() }
func (r *recorder) Write(bufs [][]byte) bool {
	if r.closed.Load() {
		return false
	}
	r.mu.Lock()
	for _, b := range bufs {
		for len(b) > 0 {
			f, n, err := frame.Decode(b, frame.HardMaxPayload)
			if err != nil || n == 0 {
				panic(fmt.Sprintf("bad frame from worker: %v", err))
			}
			env, err := frame.DecodeEnvelope(f)
			if err != nil {
				panic(err)
			}
			r.envs = append(r.envs, env)
			b = b[n:]
		}
	}
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return true
}

// wait returns the envelopes once cond holds for them.
func (r *recorder) wait(t *testing.T, cond func([]*proto.Envelope) bool) []*proto.Envelope {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		envs := append([]*proto.Envelope(nil), r.envs...)
		r.mu.Unlock()
		if cond(envs) {
			return envs
		}
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("timed out; have %d envelopes: %v", len(envs), envs)
		}
	}
}

func count(typ proto.Type, n int) func([]*proto.Envelope) bool {
	return func(envs []*proto.Envelope) bool {
		k := 0
		for _, e := range envs {
			if e.Type == typ {
				k++
			}
		}
		return k >= n
	}
}

func ofType(envs []*proto.Envelope, typ proto.Type) []*proto.Envelope {
	var out []*proto.Envelope
	for _, e := range envs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func newTestRouter(t *testing.T, dir string, opts Options) (*Router, *storage.Store) {
	t.Helper()
	st, err := storage.Open(storage.Options{Dir: dir, Durability: storage.DurabilityAsync})
	if err != nil {
		t.Fatal(err)
	}
	opts.Registerer = prometheus.NewRegistry()
	r, err := New(opts, st)
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	t.Cleanup(func() {
		_ = r.Stop(context.Background())
		_ = st.Close()
	})
	return r, st
}

var (
	alice = NewIdentity("demo", "alice", proto.Role_ROLE_AGENT)
	vis   = NewIdentity("demo", "v1", proto.Role_ROLE_VISITOR)
)

func submit(t *testing.T, r *Router, req Request) {
	t.Helper()
	if !r.Submit(req) {
		t.Fatal("ring full")
	}
}

// TestConcurrentSendersGapFree: many goroutines send into one conversation;
// seqs are 1..N with no gap or duplicate, each acked once, and the agent
// sees them all in seq order.
func TestConcurrentSendersGapFree(t *testing.T) {
	r, _ := newTestRouter(t, t.TempDir(), Options{Shards: 3})
	v := newRecorder(1)
	a := newRecorder(2)
	submit(t, r, Request{Op: OpCreate, Sink: v, Who: vis, Env: &proto.Envelope{Id: 1, Conversation: "c1"}})
	v.wait(t, count(proto.Type_TYPE_JOINED, 1))
	submit(t, r, Request{Op: OpJoin, Sink: a, Who: alice, Env: &proto.Envelope{Id: 1, Conversation: "c1"}})
	a.wait(t, count(proto.Type_TYPE_JOINED, 1))

	const goroutines, each = 8, 250
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				req := Request{Op: OpSend, Sink: v, Who: vis, Env: &proto.Envelope{
					Id: uint64(g*each + i + 10), Conversation: "c1", ClientMsgId: fmt.Sprintf("g%d-%d", g, i), Body: "x"}}
				for !r.Submit(req) {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	const n = goroutines * each
	acks := ofType(v.wait(t, count(proto.Type_TYPE_ACK, n)), proto.Type_TYPE_ACK)
	seen := make(map[uint64]bool)
	for _, ack := range acks {
		if seen[ack.Seq] || ack.Seq < 1 || ack.Seq > n {
			t.Fatalf("bad or duplicate seq %d", ack.Seq)
		}
		seen[ack.Seq] = true
	}
	msgs := ofType(a.wait(t, count(proto.Type_TYPE_MESSAGE, n)), proto.Type_TYPE_MESSAGE)
	for i, m := range msgs {
		if m.Seq != uint64(i+1) {
			t.Fatalf("agent message %d has seq %d", i, m.Seq)
		}
	}
	if got := ofType(v.wait(t, count(proto.Type_TYPE_ACK, n)), proto.Type_TYPE_MESSAGE); len(got) != 0 {
		t.Fatalf("sender got %d of its own messages", len(got))
	}
}

// TestDuplicateInSameBatch: a resend staged in the same drain as the
// original is answered with the original seq after the commit.
func TestDuplicateInSameBatch(t *testing.T) {
	r, st := newTestRouter(t, t.TempDir(), Options{Shards: 1})
	v := newRecorder(1)
	submit(t, r, Request{Op: OpCreate, Sink: v, Who: vis, Env: &proto.Envelope{Id: 1, Conversation: "c2"}})
	v.wait(t, count(proto.Type_TYPE_JOINED, 1))
	for i := range 4 {
		submit(t, r, Request{Op: OpSend, Sink: v, Who: vis, Env: &proto.Envelope{
			Id: uint64(10 + i), Conversation: "c2", ClientMsgId: "same", Body: "once"}})
	}
	acks := ofType(v.wait(t, count(proto.Type_TYPE_ACK, 4)), proto.Type_TYPE_ACK)
	for _, a := range acks {
		if a.Seq != 1 {
			t.Fatalf("ack %v", a)
		}
	}
	if last, err := st.LastSeq("c2"); err != nil || last != 1 {
		t.Fatalf("LastSeq = %d, %v", last, err)
	}
}

// TestCommitFailureRollsBack: when the log refuses a commit, senders get a
// retryable error and the seq is not consumed.
func TestCommitFailureRollsBack(t *testing.T) {
	dir := t.TempDir()
	st, err := storage.Open(storage.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Shards: 1, Registerer: prometheus.NewRegistry()}, st)
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	defer r.Stop(context.Background())
	v := newRecorder(1)
	submit(t, r, Request{Op: OpCreate, Sink: v, Who: vis, Env: &proto.Envelope{Id: 1, Conversation: "c3"}})
	v.wait(t, count(proto.Type_TYPE_JOINED, 1))
	submit(t, r, Request{Op: OpSend, Sink: v, Who: vis, Env: &proto.Envelope{Id: 2, Conversation: "c3", Body: "ok"}})
	v.wait(t, count(proto.Type_TYPE_ACK, 1))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	submit(t, r, Request{Op: OpSend, Sink: v, Who: vis, Env: &proto.Envelope{Id: 3, Conversation: "c3", Body: "lost"}})
	errs := ofType(v.wait(t, count(proto.Type_TYPE_ERROR, 1)), proto.Type_TYPE_ERROR)
	if e := errs[0]; e.Id != 3 || e.Error.Code != proto.Code_CODE_INTERNAL || !e.Error.Retryable {
		t.Fatalf("error reply %v", e)
	}
	// Stop waits for the worker, so its state can be read here.
	_ = r.Stop(context.Background())
	if last := r.workers[0].convs["c3"].last; last != 1 {
		t.Fatalf("seq after a failed commit = %d, want 1", last)
	}
}

// TestRingFullRefuses: Submit never blocks; a full ring says no.
func TestRingFullRefuses(t *testing.T) {
	st, err := storage.Open(storage.Options{Dir: t.TempDir(), Durability: storage.DurabilityAsync})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := New(Options{Shards: 1, RingSize: 16}, st) // not started: nothing drains
	if err != nil {
		t.Fatal(err)
	}
	v := newRecorder(1)
	ok := 0
	for range 100 {
		if r.Submit(Request{Op: OpSend, Sink: v, Who: vis, Env: &proto.Envelope{Conversation: "c"}}) {
			ok++
		}
	}
	if ok != 16 {
		t.Fatalf("accepted %d, want 16", ok)
	}
}

// TestSweepForgetsClosedAndIdle: closed sinks are dropped and idle
// conversations evicted; an evicted conversation reloads from the log.
func TestSweepForgetsClosedAndIdle(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	r, _ := newTestRouter(t, t.TempDir(), Options{
		Shards: 1, IdleConversation: time.Minute, SweepInterval: 5 * time.Millisecond, AutoClose: -1,
		Now: func() time.Time { return time.Unix(0, now.Load()) },
	})
	v := newRecorder(1)
	submit(t, r, Request{Op: OpCreate, Sink: v, Who: vis, Env: &proto.Envelope{Id: 1, Conversation: "c4"}})
	v.wait(t, count(proto.Type_TYPE_JOINED, 1))
	submit(t, r, Request{Op: OpSend, Sink: v, Who: vis, Env: &proto.Envelope{Id: 2, Conversation: "c4", Body: "kept", ClientMsgId: "k"}})
	v.wait(t, count(proto.Type_TYPE_ACK, 1))
	v.closed.Store(true)
	now.Add(int64(2 * time.Minute))
	deadline := time.Now().Add(5 * time.Second)
	for gaugeValue(r) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("conversation not evicted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	v2 := newRecorder(2)
	submit(t, r, Request{Op: OpJoin, Sink: v2, Who: vis, Env: &proto.Envelope{Id: 3, Conversation: "c4"}})
	envs := v2.wait(t, count(proto.Type_TYPE_JOINED, 1))
	if len(ofType(envs, proto.Type_TYPE_MESSAGE)) != 1 || ofType(envs, proto.Type_TYPE_JOINED)[0].Seq != 1 {
		t.Fatalf("reloaded conversation: %v", envs)
	}
	// The dedup window was warmed from the log.
	submit(t, r, Request{Op: OpSend, Sink: v2, Who: vis, Env: &proto.Envelope{Id: 4, Conversation: "c4", Body: "kept", ClientMsgId: "k"}})
	if ack := ofType(v2.wait(t, count(proto.Type_TYPE_ACK, 1)), proto.Type_TYPE_ACK)[0]; ack.Seq != 1 {
		t.Fatalf("resend after reload: %v", ack)
	}
}

func gaugeValue(r *Router) float64 {
	ch := make(chan prometheus.Metric, 1)
	r.m.conversations.Collect(ch)
	m := <-ch
	out := new(dto.Metric)
	_ = m.Write(out)
	return out.GetGauge().GetValue()
}

// TestClientMsgIDsArePerSender: the visitor and the agent may both use
// client_msg_id "1"; both messages are stored. A resend by either is still
// recognised.
func TestClientMsgIDsArePerSender(t *testing.T) {
	r, st := newTestRouter(t, t.TempDir(), Options{Shards: 2})
	v, a := newRecorder(1), newRecorder(2)
	submit(t, r, Request{Op: OpCreate, Sink: v, Who: vis, Env: &proto.Envelope{Id: 1, Conversation: "c5"}})
	v.wait(t, count(proto.Type_TYPE_JOINED, 1))
	submit(t, r, Request{Op: OpJoin, Sink: a, Who: alice, Env: &proto.Envelope{Id: 1, Conversation: "c5"}})
	a.wait(t, count(proto.Type_TYPE_JOINED, 1))
	submit(t, r, Request{Op: OpSend, Sink: v, Who: vis, Env: &proto.Envelope{Id: 2, Conversation: "c5", ClientMsgId: "1", Body: "from visitor"}})
	submit(t, r, Request{Op: OpSend, Sink: a, Who: alice, Env: &proto.Envelope{Id: 2, Conversation: "c5", ClientMsgId: "1", Body: "from agent"}})
	submit(t, r, Request{Op: OpSend, Sink: a, Who: alice, Env: &proto.Envelope{Id: 3, Conversation: "c5", ClientMsgId: "1", Body: "from agent"}})
	va := ofType(v.wait(t, count(proto.Type_TYPE_ACK, 1)), proto.Type_TYPE_ACK)
	aa := ofType(a.wait(t, count(proto.Type_TYPE_ACK, 2)), proto.Type_TYPE_ACK)
	if va[0].Seq != 1 || aa[0].Seq != 2 || aa[1].Seq != 2 {
		t.Fatalf("acks: visitor %v, agent %v", va, aa)
	}
	if last, _ := st.LastSeq("c5"); last != 2 {
		t.Fatalf("stored %d messages, want 2", last)
	}
}
