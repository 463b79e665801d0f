package longpoll

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/engine"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// allowedOrigin is the one browser origin the fake handler allows.
const allowedOrigin = "http://allowed.example"

// fake is a Handler that answers like the engine would, without shards:
// HELLO for site "demo" is welcomed, PING ponged, SEND acknowledged
// through Write (the path shard workers take), anything else recorded.
type fake struct {
	ids     atomic.Uint64
	mu      sync.Mutex
	got     []*proto.Envelope
	dropped []engine.Peer
}

func (f *fake) NewPeerID() uint64 { return f.ids.Add(1) }

func (f *fake) HandlePeer(p engine.Peer, env *proto.Envelope) {
	if p.Who() == nil {
		if env.Type != proto.Type_TYPE_HELLO || env.GetHello().GetSite() != "demo" {
			p.Reply(&proto.Envelope{Type: proto.Type_TYPE_ERROR, Id: env.Id, Error: &proto.Error{Code: proto.Code_CODE_UNAUTHENTICATED, Message: "authentication failed"}})
			return
		}
		who := shard.NewIdentity("demo", env.Hello.User, env.Hello.Role)
		p.SetWho(who)
		p.Reply(&proto.Envelope{Type: proto.Type_TYPE_WELCOME, Id: env.Id, Sender: who.Sender})
		return
	}
	f.mu.Lock()
	f.got = append(f.got, env)
	f.mu.Unlock()
	switch env.Type {
	case proto.Type_TYPE_PING:
		p.Reply(&proto.Envelope{Type: proto.Type_TYPE_PONG, Id: env.Id})
	case proto.Type_TYPE_SEND:
		b, err := wire.Append(nil, p.Format(), &proto.Envelope{Type: proto.Type_TYPE_ACK, Id: env.Id, Conversation: env.Conversation, ClientMsgId: env.ClientMsgId, Seq: env.Id}, nil)
		if err != nil {
			panic(err)
		}
		p.Write([][]byte{b})
	}
}

func (f *fake) DropPeer(p engine.Peer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropped = append(f.dropped, p)
}

func (f *fake) OriginAllowed(site, origin string) bool { return origin == allowedOrigin }

func (f *fake) drops() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.dropped)
}

// startFake runs a Server over a fake handler behind a real HTTP server on
// 127.0.0.1.
func startFake(t testing.TB, opts Options) (*Server, *fake, string) {
	t.Helper()
	f := &fake{}
	opts.Handler = f
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv.Mount(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return srv, f, hs.URL
}

// TestClient speaks long-poll as a test client: one session, its cursor.
// Exported for the tests of package longpoll_test (engine_test.go).
type TestClient struct {
	t      testing.TB
	base   string
	Origin string // sent as the Origin header when set
	Key    string // the session
	Next   uint64 // the ack of the next poll
}

func NewTestClient(t testing.TB, base string) *TestClient { return &TestClient{t: t, base: base} }

// Answer is a decoded long-poll answer.
type Answer struct {
	Session   string            `json:"session"`
	Envelopes []json.RawMessage `json:"envelopes"`
	Next      *uint64           `json:"next"`
	Error     *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// do sends one request and decodes its answer.
func (c *TestClient) Do(method, path string, body []byte, hdr ...string) (int, Answer, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+Prefix+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.Key != "" {
		req.Header.Set(SessionHeader, c.Key)
	}
	if c.Origin != "" {
		req.Header.Set("Origin", c.Origin)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	var a Answer
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a); err != nil {
			c.t.Fatalf("%s %s: %d %q: %v", method, path, res.StatusCode, raw, err)
		}
	}
	return res.StatusCode, a, res.Header
}

// envelopes decodes the envelopes of an answer.
func (c *TestClient) Envelopes(a Answer) []*proto.Envelope {
	c.t.Helper()
	out := make([]*proto.Envelope, len(a.Envelopes))
	for i, raw := range a.Envelopes {
		out[i] = new(proto.Envelope)
		if err := proto.UnmarshalJSON(raw, out[i]); err != nil {
			c.t.Fatalf("envelope %s: %v", raw, err)
		}
	}
	return out
}

// connect sends HELLO and keeps the session; it returns the envelopes of
// the answer.
func (c *TestClient) Connect(hello *proto.Envelope) []*proto.Envelope {
	c.t.Helper()
	st, a, _ := c.Do("POST", "connect", proto.AppendJSON(nil, hello))
	if st != http.StatusOK || a.Session == "" || a.Next == nil {
		c.t.Fatalf("connect: %d %+v", st, a)
	}
	c.Key, c.Next = a.Session, *a.Next
	return c.Envelopes(a)
}

// send posts envelopes (an array when more than one).
func (c *TestClient) Send(envs ...*proto.Envelope) {
	c.t.Helper()
	var b []byte
	if len(envs) == 1 {
		b = proto.AppendJSON(nil, envs[0])
	} else {
		b = append(b, '[')
		for i, e := range envs {
			if i > 0 {
				b = append(b, ',')
			}
			b = proto.AppendJSON(b, e)
		}
		b = append(b, ']')
	}
	if st, a, _ := c.Do("POST", "send", b); st != http.StatusAccepted {
		c.t.Fatalf("send: %d %+v", st, a)
	}
}

// poll polls once with the client's cursor and moves it.
func (c *TestClient) Poll(wait int) []*proto.Envelope {
	c.t.Helper()
	st, a, _ := c.Do("GET", "poll?ack="+strconv.FormatUint(c.Next, 10)+"&wait="+strconv.Itoa(wait), nil)
	if st != http.StatusOK || a.Next == nil {
		c.t.Fatalf("poll: %d %+v", st, a)
	}
	c.Next = *a.Next
	return c.Envelopes(a)
}

// until polls until pred holds for an envelope, returning everything
// received on the way (that one included).
func (c *TestClient) Until(pred func(*proto.Envelope) bool) []*proto.Envelope {
	c.t.Helper()
	var all []*proto.Envelope
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range c.Poll(2) {
			all = append(all, e)
			if pred(e) {
				return all
			}
		}
	}
	c.t.Fatalf("no awaited envelope within 10s; got %v", all)
	return nil
}

func Hello(user string) *proto.Envelope {
	return &proto.Envelope{Type: proto.Type_TYPE_HELLO, Id: 1, Hello: &proto.Hello{Site: "demo", Role: proto.Role_ROLE_VISITOR, User: user}}
}

// count reads a counter or a gauge.
func count(c prometheus.Metric) int {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	if m.Gauge != nil {
		return int(m.Gauge.GetValue())
	}
	return int(m.Counter.GetValue())
}

// jsonEnv encodes env as a shard worker does for a session.
func jsonEnv(env *proto.Envelope) []byte {
	b, err := wire.Append(nil, wire.FormatJSON, env, nil)
	if err != nil {
		panic(err)
	}
	return b
}
