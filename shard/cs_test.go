package shard

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard/routing"
	gproto "google.golang.org/protobuf/proto"
)

// systemBodies returns the parsed bodies of the system messages in envs.
func systemBodies(envs []*proto.Envelope) []map[string]any {
	var out []map[string]any
	for _, e := range envs {
		if e.Type == proto.Type_TYPE_MESSAGE && e.Sender == SystemSender {
			m := map[string]any{}
			if err := json.Unmarshal([]byte(e.Body), &m); err != nil {
				panic(err)
			}
			out = append(out, m)
		}
	}
	return out
}

func hasSystem(typ string, n int) func([]*proto.Envelope) bool {
	return func(envs []*proto.Envelope) bool {
		k := 0
		for _, m := range systemBodies(envs) {
			if m["type"] == typ {
				k++
			}
		}
		return k >= n
	}
}

func hasNotice(kind, conv string) func([]*proto.Envelope) bool {
	return func(envs []*proto.Envelope) bool {
		for _, e := range envs {
			if e.Type == proto.Type_TYPE_NOTICE && e.Event == kind && (conv == "" || e.Conversation == conv) {
				return true
			}
		}
		return false
	}
}

func deskSubmit(t *testing.T, r *Router, req Request) {
	t.Helper()
	if !r.SubmitDesk(req) {
		t.Fatal("desk ring full")
	}
}

func meta(t *testing.T, r *Router, id string) *proto.Conversation {
	t.Helper()
	b, ok, err := r.store.Conversation(id)
	if err != nil || !ok {
		t.Fatalf("conversation %s: %v %v", id, ok, err)
	}
	m := new(proto.Conversation)
	if err := gproto.Unmarshal(b, m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestQueueAssignCloseRate walks one conversation through its states: a
// visitor arrives with no agent online (queued, told its position), an
// agent with capacity 1 connects (assigned, system message, notice), a
// second visitor queues behind, the first conversation closes (the second
// is assigned at once), the first is rated; records are persisted.
func TestQueueAssignCloseRate(t *testing.T) {
	r, _ := newTestRouter(t, t.TempDir(), Options{Shards: 2, DefaultCapacity: 1})
	v1 := newRecorder(1)
	submit(t, r, Request{Op: OpCreate, Sink: v1, Who: vis, Env: &proto.Envelope{Id: 1, Conversation: "q1"}})
	envs := v1.wait(t, func(envs []*proto.Envelope) bool {
		for _, e := range envs {
			if e.Type == proto.Type_TYPE_EVENT && e.Event == "queue" && e.Position == 1 {
				return true
			}
		}
		return false
	})
	if j := ofType(envs, proto.Type_TYPE_JOINED)[0]; j.State != "queued" {
		t.Fatalf("joined state %q, want queued", j.State)
	}

	ag := newRecorder(10)
	deskSubmit(t, r, Request{Op: OpConnect, Sink: ag, Who: alice, Env: &proto.Envelope{}})
	v1.wait(t, hasSystem("assigned", 1))
	ag.wait(t, hasNotice("assigned", "q1"))
	if m := meta(t, r, "q1"); m.State != "open" || m.Agent != "alice" || m.AssignedAt == 0 {
		t.Fatalf("record after assignment: %v", m)
	}

	vis2 := NewIdentity("demo", "v2", proto.Role_ROLE_VISITOR)
	v2 := newRecorder(2)
	submit(t, r, Request{Op: OpCreate, Sink: v2, Who: vis2, Env: &proto.Envelope{Id: 1, Conversation: "q2"}})
	ag.wait(t, func(envs []*proto.Envelope) bool {
		for _, e := range envs {
			if e.Type == proto.Type_TYPE_NOTICE && e.Event == "queue" && e.Conversation == "q2" && e.Position == 1 {
				return true
			}
		}
		return false
	})

	// The agent replies (first response), the visitor closes.
	submit(t, r, Request{Op: OpJoin, Sink: ag, Who: alice, Env: &proto.Envelope{Id: 5, Conversation: "q1"}})
	submit(t, r, Request{Op: OpSend, Sink: ag, Who: alice, Env: &proto.Envelope{Id: 6, Conversation: "q1", Body: "hi"}})
	ag.wait(t, count(proto.Type_TYPE_ACK, 1))
	submit(t, r, Request{Op: OpClose, Sink: v1, Who: vis, Env: &proto.Envelope{Id: 7, Conversation: "q1"}})
	v1.wait(t, count(proto.Type_TYPE_OK, 1))
	v1.wait(t, hasSystem("closed", 1))
	v2.wait(t, hasSystem("assigned", 1))
	ag.wait(t, hasNotice("closed", "q1"))
	m := meta(t, r, "q1")
	if m.State != "closed" || m.ClosedBy != "v:v1" || m.FirstResponse == 0 {
		t.Fatalf("record after close: %v", m)
	}

	// Sending into a closed conversation is refused; rating works once.
	submit(t, r, Request{Op: OpSend, Sink: v1, Who: vis, Env: &proto.Envelope{Id: 8, Conversation: "q1", Body: "late"}})
	submit(t, r, Request{Op: OpRate, Sink: v1, Who: vis, Env: &proto.Envelope{Id: 9, Conversation: "q1", Rating: 4, Body: "good"}})
	submit(t, r, Request{Op: OpRate, Sink: v1, Who: vis, Env: &proto.Envelope{Id: 10, Conversation: "q1", Rating: 5}})
	envs = v1.wait(t, count(proto.Type_TYPE_ERROR, 2))
	errs := ofType(envs, proto.Type_TYPE_ERROR)
	if errs[0].Id != 8 || errs[0].Error.Code != proto.Code_CODE_FORBIDDEN || errs[1].Id != 10 {
		t.Fatalf("errors: %v", errs)
	}
	if m := meta(t, r, "q1"); m.Rating != 4 || m.Comment != "good" {
		t.Fatalf("rating: %v", m)
	}
}

// TestReadCursorStored: a read event is relayed and stored, never moving
// backwards.
func TestReadCursorStored(t *testing.T) {
	r, _ := newTestRouter(t, t.TempDir(), Options{Shards: 1})
	v := newRecorder(1)
	submit(t, r, Request{Op: OpCreate, Sink: v, Who: vis, Env: &proto.Envelope{Id: 1, Conversation: "rc"}})
	v.wait(t, count(proto.Type_TYPE_JOINED, 1))
	for i := range 3 {
		submit(t, r, Request{Op: OpSend, Sink: v, Who: vis, Env: &proto.Envelope{Id: uint64(2 + i), Conversation: "rc", Body: "m"}})
	}
	v.wait(t, count(proto.Type_TYPE_ACK, 3))
	ag := newRecorder(2)
	submit(t, r, Request{Op: OpJoin, Sink: ag, Who: alice, Env: &proto.Envelope{Id: 1, Conversation: "rc"}})
	ag.wait(t, count(proto.Type_TYPE_JOINED, 1))
	submit(t, r, Request{Op: OpEvent, Sink: ag, Who: alice, Env: &proto.Envelope{Conversation: "rc", Event: "read", Seq: 2}})
	submit(t, r, Request{Op: OpEvent, Sink: ag, Who: alice, Env: &proto.Envelope{Conversation: "rc", Event: "read", Seq: 1}})
	v.wait(t, count(proto.Type_TYPE_EVENT, 2))
	testWait(t, func() bool {
		m := meta(t, r, "rc")
		return len(m.Reads) == 1 && m.Reads[0].Who == "a:alice" && m.Reads[0].Seq == 2
	})
}

// TestAutoClose: an idle open conversation is closed by the system.
func TestAutoClose(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	r, _ := newTestRouter(t, t.TempDir(), Options{
		Shards: 1, SweepInterval: 5 * time.Millisecond, AutoClose: time.Minute,
		Now: func() time.Time { return time.Unix(0, now.Load()) },
	})
	v := newRecorder(1)
	submit(t, r, Request{Op: OpCreate, Sink: v, Who: vis, Env: &proto.Envelope{Id: 1, Conversation: "ac"}})
	v.wait(t, count(proto.Type_TYPE_JOINED, 1))
	now.Add(int64(2 * time.Minute))
	envs := v.wait(t, hasSystem("closed", 1))
	if b := systemBodies(envs); b[len(b)-1]["by"] != SystemSender || b[len(b)-1]["reason"] != "inactive" {
		t.Fatalf("auto close message: %v", b)
	}
}

// TestClaimAndTransfer: an away agent claims from the queue by hand; a
// transfer to another agent tells both sides.
func TestClaimAndTransfer(t *testing.T) {
	r, _ := newTestRouter(t, t.TempDir(), Options{Shards: 2, DefaultCapacity: 2})
	ctx := context.Background()
	bob := NewIdentity("demo", "bob", proto.Role_ROLE_AGENT)
	for _, id := range []string{"alice", "bob"} {
		if err := r.Desk().SetAgent(ctx, routing.Agent{ID: id, Site: "demo", Capacity: 2, Weight: 1}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := newRecorder(10), newRecorder(11)
	deskSubmit(t, r, Request{Op: OpConnect, Sink: a, Who: alice, Env: &proto.Envelope{}})
	deskSubmit(t, r, Request{Op: OpStatus, Sink: a, Who: alice, Env: &proto.Envelope{Id: 1, Status: "away"}})
	a.wait(t, count(proto.Type_TYPE_OK, 1))
	v := newRecorder(1)
	submit(t, r, Request{Op: OpCreate, Sink: v, Who: vis, Env: &proto.Envelope{Id: 1, Conversation: "ct"}})
	a.wait(t, hasNotice("queue", "ct"))

	deskSubmit(t, r, Request{Op: OpClaim, Sink: a, Who: alice, Env: &proto.Envelope{Id: 2}})
	envs := a.wait(t, count(proto.Type_TYPE_OK, 2))
	if ok := ofType(envs, proto.Type_TYPE_OK)[1]; ok.Conversation != "ct" {
		t.Fatalf("claim reply %v", ok)
	}
	v.wait(t, hasSystem("assigned", 1))

	deskSubmit(t, r, Request{Op: OpConnect, Sink: b, Who: bob, Env: &proto.Envelope{}})
	deskSubmit(t, r, Request{Op: OpTransfer, Sink: a, Who: alice, Env: &proto.Envelope{Id: 3, Conversation: "ct", Agent: "bob"}})
	a.wait(t, hasNotice("unassigned", "ct"))
	b.wait(t, hasNotice("assigned", "ct"))
	envs = v.wait(t, hasSystem("transferred", 1))
	sys := systemBodies(envs)
	if last := sys[len(sys)-1]; last["from"] != "alice" || last["agent"] != "bob" {
		t.Fatalf("transfer message: %v", last)
	}
	if m := meta(t, r, "ct"); m.Agent != "bob" {
		t.Fatalf("record agent %q", m.Agent)
	}
	// Transfers to unknown agents are refused.
	deskSubmit(t, r, Request{Op: OpTransfer, Sink: b, Who: bob, Env: &proto.Envelope{Id: 4, Conversation: "ct", Agent: "nobody"}})
	envs = b.wait(t, count(proto.Type_TYPE_ERROR, 1))
	if e := ofType(envs, proto.Type_TYPE_ERROR)[0]; e.Error.Code != proto.Code_CODE_NOT_FOUND {
		t.Fatalf("transfer to nobody: %v", e)
	}
}

// TestCall: the in-process request path used by the REST API.
func TestCall(t *testing.T) {
	r, _ := newTestRouter(t, t.TempDir(), Options{Shards: 2})
	ctx := context.Background()
	v := newRecorder(1)
	submit(t, r, Request{Op: OpCreate, Sink: v, Who: vis, Env: &proto.Envelope{Id: 1, Conversation: "cl"}})
	v.wait(t, count(proto.Type_TYPE_JOINED, 1))
	rep, err := r.Call(ctx, alice, &proto.Envelope{Type: proto.Type_TYPE_JOIN, Id: 1, Conversation: "cl"})
	if err != nil || rep.Type != proto.Type_TYPE_JOINED {
		t.Fatalf("join: %v %v", rep, err)
	}
	rep, err = r.Call(ctx, alice, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 2, Conversation: "cl", Body: "from REST"})
	if err != nil || rep.Type != proto.Type_TYPE_ACK || rep.Seq == 0 {
		t.Fatalf("send: %v %v", rep, err)
	}
	v.wait(t, func(envs []*proto.Envelope) bool {
		for _, e := range envs {
			if e.Type == proto.Type_TYPE_MESSAGE && e.Body == "from REST" {
				return true
			}
		}
		return false
	})
	rep, err = r.Call(ctx, alice, &proto.Envelope{Type: proto.Type_TYPE_CLOSE, Id: 3, Conversation: "nope"})
	if err != nil || rep.Type != proto.Type_TYPE_ERROR || rep.Error.Code != proto.Code_CODE_NOT_FOUND {
		t.Fatalf("close unknown: %v %v", rep, err)
	}
}

func testWait(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReopen: an agent reopens a closed conversation; it is routed again
// (back to the same agent by affinity) with a system message; reopening
// an open conversation changes nothing; visitors cannot reopen.
func TestReopen(t *testing.T) {
	r, _ := newTestRouter(t, t.TempDir(), Options{Shards: 2})
	ag := newRecorder(10)
	deskSubmit(t, r, Request{Op: OpConnect, Sink: ag, Who: alice, Env: &proto.Envelope{}})
	v := newRecorder(1)
	submit(t, r, Request{Op: OpCreate, Sink: v, Who: vis, Env: &proto.Envelope{Id: 1, Conversation: "ro"}})
	v.wait(t, hasSystem("assigned", 1))
	submit(t, r, Request{Op: OpClose, Sink: ag, Who: alice, Env: &proto.Envelope{Id: 2, Conversation: "ro"}})
	v.wait(t, hasSystem("closed", 1))
	submit(t, r, Request{Op: OpReopen, Sink: v, Who: vis, Env: &proto.Envelope{Id: 3, Conversation: "ro"}})
	if e := ofType(v.wait(t, count(proto.Type_TYPE_ERROR, 1)), proto.Type_TYPE_ERROR)[0]; e.Error.Code != proto.Code_CODE_FORBIDDEN {
		t.Fatalf("visitor reopen: %v", e)
	}
	submit(t, r, Request{Op: OpReopen, Sink: ag, Who: alice, Env: &proto.Envelope{Id: 4, Conversation: "ro"}})
	v.wait(t, hasSystem("reopened", 1))
	v.wait(t, hasSystem("assigned", 2))
	if m := meta(t, r, "ro"); m.State != "open" || m.Agent != "alice" || m.ClosedAt != 0 {
		t.Fatalf("after reopen: %v", m)
	}
	submit(t, r, Request{Op: OpReopen, Sink: ag, Who: alice, Env: &proto.Envelope{Id: 5, Conversation: "ro"}})
	envs := ag.wait(t, func(envs []*proto.Envelope) bool {
		for _, e := range envs {
			if e.Type == proto.Type_TYPE_OK && e.Id == 5 {
				return true
			}
		}
		return false
	})
	if ok := ofType(envs, proto.Type_TYPE_OK); ok[len(ok)-1].State != "open" {
		t.Fatalf("reopen of an open conversation: %v", ok[len(ok)-1])
	}
	reopened := 0
	for _, m := range systemBodies(v.wait(t, hasSystem("reopened", 1))) {
		if m["type"] == "reopened" {
			reopened++
		}
	}
	if reopened != 1 {
		t.Fatalf("%d reopened messages, want 1", reopened)
	}
}
