package mochibroker

import (
	"errors"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// TestBroker: a stock client connects without credentials, subscribes and
// receives its own QoS 1 message; a second Start is refused.
func TestBroker(t *testing.T) {
	b, err := New(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Addr() != nil {
		t.Fatal("an address before Start")
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Start(); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + b.Addr().String()).SetClientID("t1"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	got := make(chan string, 1)
	if tok := c.Subscribe("kefu/demo/d/t", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	if tok := c.Publish("kefu/demo/d/t", 1, false, "hi"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	select {
	case m := <-got:
		if m != "hi" {
			t.Fatalf("got %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not delivered")
	}
}

func TestOptions(t *testing.T) {
	if _, err := New(Options{WritesPending: -1}); err == nil {
		t.Fatal("negative WritesPending accepted")
	}
	b, err := New(Options{WritesPending: 64})
	if err != nil || b.opts.Addr != "127.0.0.1:7200" || b.opts.Logger == nil {
		t.Fatalf("%v %+v", err, b.opts)
	}
}
