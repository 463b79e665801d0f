package longpoll

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/proto"
)

// testSession is a session of a server that is never served.
func testSession(t testing.TB, limit int) *session {
	t.Helper()
	srv, err := New(Options{Handler: &fake{}, OutboundLimit: limit, MaxBodyBytes: min(limit, 65536)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return newSession(srv, 1, "k")
}

// TestOutboxNumbers: numbering, acks (stale, partial, whole) and the
// answer's JSON.
func TestOutboxNumbers(t *testing.T) {
	s := testSession(t, 1<<20)
	for i := range 5 {
		s.Write([][]byte{jsonEnv(&proto.Envelope{Type: proto.Type_TYPE_MESSAGE, Seq: uint64(i + 1)})})
	}
	batch := func(ack uint64) (seqs []uint64, next uint64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.ackLocked(ack)
		b, n := s.appendBatchLocked([]byte{'{'}, ack)
		var a struct {
			Envelopes []struct{ Seq uint64 }
			Next      uint64
		}
		if err := json.Unmarshal(append(b, '}'), &a); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if a.Next != n {
			t.Fatalf("next %d in JSON, %d returned", a.Next, n)
		}
		for _, e := range a.Envelopes {
			seqs = append(seqs, e.Seq)
		}
		return seqs, a.Next
	}
	for _, tc := range []struct {
		ack  uint64
		want []uint64
		next uint64
	}{
		{0, []uint64{1, 2, 3, 4, 5}, 5},
		{2, []uint64{3, 4, 5}, 5},
		{1, []uint64{3, 4, 5}, 5}, // stale: nothing to drop, the rest again
		{5, nil, 5},
	} {
		seqs, next := batch(tc.ack)
		if !equal(seqs, tc.want) || next != tc.next {
			t.Fatalf("ack %d: %v next %d, want %v next %d", tc.ack, seqs, next, tc.want, tc.next)
		}
	}
	s.mu.Lock()
	if s.first != 6 || len(s.out) != 0 || s.bytes != 0 || s.lastLocked() != 5 {
		t.Fatalf("after the last ack: first %d, %d queued, %d bytes", s.first, len(s.out), s.bytes)
	}
	s.mu.Unlock()
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestOutboxAnswerSize: an answer stops near maxResponseBytes but always
// carries one envelope.
func TestOutboxAnswerSize(t *testing.T) {
	s := testSession(t, 8<<20)
	big := &proto.Envelope{Type: proto.Type_TYPE_MESSAGE, Body: strings.Repeat("b", 400<<10)}
	huge := &proto.Envelope{Type: proto.Type_TYPE_MESSAGE, Body: strings.Repeat("h", maxResponseBytes+10)}
	s.Write([][]byte{jsonEnv(big), jsonEnv(big), jsonEnv(big), jsonEnv(huge), jsonEnv(big)})
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, want := range []uint64{2, 3, 4, 5} { // 2 big fit in 1 MiB, then the huge one alone, then the last
		_, next := s.appendBatchLocked(nil, s.first-1)
		if next != want {
			t.Fatalf("answer ends at %d, want %d", next, want)
		}
		s.ackLocked(next)
	}
}

// TestOutboxNoAllocs: in steady state (the outbox has grown once), a
// worker's Write and the client's ack allocate nothing.
func TestOutboxNoAllocs(t *testing.T) {
	s := testSession(t, 1<<20)
	frame := jsonEnv(&proto.Envelope{Type: proto.Type_TYPE_MESSAGE, Seq: 1, Body: "hello"})
	bufs := [][]byte{frame, frame, frame}
	s.Write(bufs)
	s.mu.Lock()
	s.ackLocked(s.lastLocked())
	s.mu.Unlock()
	allocs := testing.AllocsPerRun(1000, func() {
		s.Write(bufs)
		s.mu.Lock()
		s.ackLocked(s.lastLocked())
		s.mu.Unlock()
	})
	if allocs != 0 {
		t.Fatalf("Write + ack: %.1f allocs, want 0", allocs)
	}
}

func BenchmarkOutbox(b *testing.B) {
	s := testSession(b, 1<<20)
	frame := jsonEnv(&proto.Envelope{Type: proto.Type_TYPE_MESSAGE, Seq: 1, Body: strings.Repeat("m", 100)})
	bufs := [][]byte{frame}
	dst := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		s.Write(bufs)
		s.mu.Lock()
		dst, _ = s.appendBatchLocked(dst[:0], s.first-1)
		s.ackLocked(s.lastLocked())
		s.mu.Unlock()
	}
}

func TestParsePoll(t *testing.T) {
	for _, tc := range []struct {
		q    string
		ack  uint64
		wait time.Duration
		err  bool
	}{
		{"", 0, defaultWait, false},
		{"ack=7", 7, defaultWait, false},
		{"ack=7&wait=0", 7, 0, false},
		{"wait=30&ack=18446744073709551615", 1<<64 - 1, 30 * time.Second, false},
		{"wait=600", 0, MaxWait, false},
		{"_=123&ack=1", 1, defaultWait, false},
		{"ack=18446744073709551616", 0, 0, true},
		{"ack=", 0, 0, true},
		{"ack", 0, 0, true},
		{"ack=-1", 0, 0, true},
		{"ack=+1", 0, 0, true},
		{"ack=%31", 0, 0, true},
		{"wait=1.5", 0, 0, true},
		{"ack=1&ack=2", 0, 0, true},
		{"wait=1&wait=1", 0, 0, true},
	} {
		ack, wait, err := parsePoll(tc.q)
		if (err != nil) != tc.err || !tc.err && (ack != tc.ack || wait != tc.wait) {
			t.Errorf("%q: %d %v %v", tc.q, ack, wait, err)
		}
	}
}

func TestParseBatch(t *testing.T) {
	ping := `{"type":"ping","id":1}`
	for _, tc := range []struct {
		body string
		n    int
		err  error
	}{
		{ping, 1, nil},
		{" \n" + ping + "\t", 1, nil},
		{"[]", 0, nil},
		{" [ ] ", 0, nil},
		{"[" + ping + "]", 1, nil},
		{"[" + ping + " , " + ping + "]", 2, nil},
		{`[{"type":"send","body":"a]}\"[{"}, {"type":"event","event":"x","body":"}"}]`, 2, nil},
		{"[" + ping + "," + ping + "," + ping + "]", 0, ErrBatchTooLarge},
		{"", 0, ErrBadBatch},
		{"   ", 0, ErrBadBatch},
		{"[", 0, ErrBadBatch},
		{"[" + ping, 0, ErrBadBatch},
		{"[" + ping + ",", 0, ErrBadBatch},
		{"[" + ping + ",]", 0, ErrBadBatch},
		{"[," + ping + "]", 0, ErrBadBatch},
		{"[" + ping + "]]", 0, ErrBadBatch},
		{"[" + ping + "] x", 0, ErrBadBatch},
		{"[1]", 0, ErrBadBatch},
		{"[[" + ping + "]]", 0, ErrBadBatch},
		{`[{"type":"ping"]`, 0, ErrBadBatch},
		{`[{"type":"ping}]`, 0, ErrBadBatch},
		{`[{"type":"nope"}]`, 0, ErrBadBatch},
		{ping + ping, 0, ErrBadBatch},
		{"null", 0, ErrBadBatch},
		{`"x"`, 0, ErrBadBatch},
	} {
		envs, err := parseBatch([]byte(tc.body), 2)
		if err != tc.err || len(envs) != tc.n {
			t.Errorf("%q: %d envelopes, %v; want %d, %v", tc.body, len(envs), err, tc.n, tc.err)
		}
	}
}
