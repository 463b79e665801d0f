package mqtt

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/mochi-mqtt/server/v2/packets"
)

// testLoop is a stand-in for a gnet event loop: one goroutine owning some
// connections, turning Wake into Drain.
type testLoop struct {
	wakes chan *loopConn
	conns []*loopConn
}

type loopConn struct {
	l       *testLoop
	c       *Client
	pending atomic.Bool
	id      int
	got     map[string]int
	toSend  []string // topics to publish to, in order
	nextID  uint16
	err     error
}

// Wake never blocks: each connection has at most one wake in the channel,
// whose capacity is the loop's connection count.
func (c *loopConn) Wake() {
	if c.pending.CompareAndSwap(false, true) {
		c.l.wakes <- c
	}
}

func (c *loopConn) handle(a Actions) {
	buf := a.Out
	var acks []packets.Packet
	for len(buf) > 0 {
		pk, n, err := codec.Decode(buf, c.c.Version(), codec.HardMaxPacket)
		if err != nil || n == 0 {
			c.err = fmt.Errorf("decode: %v", err)
			return
		}
		buf = buf[n:]
		switch pk.FixedHeader.Type {
		case packets.Publish:
			c.got[string(pk.Payload)]++
			if pk.FixedHeader.Qos == 1 {
				acks = append(acks, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
			}
		case packets.Disconnect:
			c.err = fmt.Errorf("disconnected %#x", pk.ReasonCode)
		}
	}
	c.c.Release()
	if a.Close {
		c.err = fmt.Errorf("closed: %v", a.Reason)
		return
	}
	for i := range acks {
		c.handle(c.c.HandlePacket(&acks[i]))
	}
}

func (c *loopConn) packet(pk packets.Packet) {
	v := c.c.Version()
	if pk.FixedHeader.Type == packets.Connect {
		v = pk.ProtocolVersion
	}
	b, err := codec.AppendPacket(nil, &pk, v)
	if err != nil {
		c.err = err
		return
	}
	d, _, err := codec.Decode(b, c.c.Version(), codec.HardMaxPacket)
	if err != nil {
		c.err = err
		return
	}
	c.handle(c.c.HandlePacket(&d))
}

// TestConcurrentLoops runs several loops publishing QoS 1 messages to each
// other's clients at once, with subscription churn and the broker's timer
// running beside them, and checks that every message arrives exactly once.
// Run with -race.
func TestConcurrentLoops(t *testing.T) {
	const loops, perLoop, msgs = 4, 5, 150
	b, err := NewBroker(Options{MaxInflight: 4, MaxQueued: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	n := loops * perLoop
	want := make([]map[string]int, n)
	for i := range want {
		want[i] = map[string]int{}
	}
	var ls []*testLoop
	for li := range loops {
		l := &testLoop{wakes: make(chan *loopConn, perLoop)}
		for j := range perLoop {
			id := li*perLoop + j
			c := &loopConn{l: l, id: id, got: map[string]int{}}
			c.c = b.NewClient(c)
			for k := range msgs {
				dst := (id + 1 + k%(n-1)) % n
				c.toSend = append(c.toSend, fmt.Sprintf("c/%d", dst))
				want[dst][fmt.Sprintf("%d-%d", id, k)]++
			}
			l.conns = append(l.conns, c)
		}
		ls = append(ls, l)
	}
	// Connect and subscribe everyone before publishing.
	for _, l := range ls {
		for _, c := range l.conns {
			c.packet(connectPacket(byte(4+c.id%2), fmt.Sprintf("cl-%d", c.id)))
			c.packet(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
				Filters: packets.Subscriptions{{Filter: fmt.Sprintf("c/%d", c.id), Qos: 1}}})
		}
	}

	var received atomic.Int64
	total := int64(n * msgs)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			count := func() int64 {
				s := 0
				for _, c := range l.conns {
					for _, v := range c.got {
						s += v
					}
				}
				return int64(s)
			}
			before := count()
			for {
				progressed := false
				for _, c := range l.conns {
					if len(c.toSend) == 0 || c.err != nil {
						continue
					}
					topic := c.toSend[0]
					k := msgs - len(c.toSend)
					c.toSend = c.toSend[1:]
					c.nextID = c.nextID%60000 + 1
					c.packet(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: topic,
						PacketID: c.nextID, Payload: []byte(fmt.Sprintf("%d-%d", c.id, k))})
					progressed = true
				}
				select {
				case w := <-l.wakes:
					w.pending.Store(false)
					w.handle(w.c.Drain())
				case <-done:
					return
				default:
					if !progressed {
						select {
						case w := <-l.wakes:
							w.pending.Store(false)
							w.handle(w.c.Drain())
						case <-done:
							return
						case <-time.After(time.Millisecond):
						}
					}
				}
				now := count()
				received.Add(now - before)
				before = now
			}
		}()
	}
	// Churn: subscriptions added and removed by another goroutine acting
	// as a fifth loop, and the broker timer.
	wg.Add(1)
	go func() {
		defer wg.Done()
		churn := &loopConn{l: &testLoop{wakes: make(chan *loopConn, 1)}, got: map[string]int{}}
		churn.c = b.NewClient(churn)
		churn.packet(connectPacket(5, "churn"))
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			f := fmt.Sprintf("x/%d/#", i%7)
			churn.packet(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
				Filters: packets.Subscriptions{{Filter: f}, {Filter: "$share/g/c/+"}}})
			churn.packet(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe}, PacketID: 2,
				Filters: packets.Subscriptions{{Filter: f}, {Filter: "$share/g/c/+"}}})
			b.Tick()
			select {
			case w := <-churn.l.wakes:
				w.pending.Store(false)
				w.handle(w.c.Drain())
			default:
			}
		}
	}()
	deadline := time.After(20 * time.Second)
	for received.Load() < total {
		select {
		case <-deadline:
			close(done)
			wg.Wait()
			for _, l := range ls {
				for _, c := range l.conns {
					if c.err != nil {
						t.Errorf("client %d: %v", c.id, c.err)
					}
				}
			}
			t.Fatalf("received %d of %d", received.Load(), total)
		case <-time.After(5 * time.Millisecond):
		}
	}
	close(done)
	wg.Wait()
	for _, l := range ls {
		for _, c := range l.conns {
			if c.err != nil {
				t.Fatalf("client %d: %v", c.id, c.err)
			}
			if len(c.got) != len(want[c.id]) {
				t.Fatalf("client %d got %d distinct messages, want %d", c.id, len(c.got), len(want[c.id]))
			}
			for k, v := range c.got {
				if v != 1 || want[c.id][k] != 1 {
					t.Fatalf("client %d: %q received %d times", c.id, k, v)
				}
			}
		}
	}
}

// TestConcurrentTakeover: connections with the same client id keep taking
// the session over from different loops while messages flow to it.
func TestConcurrentTakeover(t *testing.T) {
	b, err := NewBroker(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &testLoop{wakes: make(chan *loopConn, 1)}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := &loopConn{l: l, id: g, got: map[string]int{}}
				c.c = b.NewClient(c)
				c.packet(connectPacket(5, "same", persistent(60)))
				c.packet(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
					Filters: packets.Subscriptions{{Filter: "t", Qos: 1}}})
				for range 3 {
					select {
					case w := <-l.wakes:
						w.pending.Store(false)
						w.handle(w.c.Drain())
					default:
					}
				}
				c.c.Closed()
				select { // a wake for the closed connection may be pending
				case <-l.wakes:
				default:
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		p := &loopConn{l: &testLoop{wakes: make(chan *loopConn, 1)}, got: map[string]int{}}
		p.c = b.NewClient(p)
		p.packet(connectPacket(4, "pub"))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p.packet(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "t",
				PacketID: uint16(i%60000 + 1), Payload: []byte("x")})
		}
	}()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if b.Sessions() != 2 {
		t.Fatalf("%d sessions", b.Sessions())
	}
	b.mu.Lock()
	s := b.sessions["same"]
	b.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner != nil || len(s.subs) != 1 {
		t.Fatalf("owner %v, %d subscriptions", s.owner, len(s.subs))
	}
}
