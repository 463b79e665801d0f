package kefu

import (
	"strings"
	"testing"

	pb "github.com/kefu-im/kefu/proto"
)

func TestOptionsDefaults(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want Transport
	}{
		{"127.0.0.1:7100", TransportFrame},
		{"ws://127.0.0.1:7000/ws", TransportWS},
		{"wss://chat.example/ws", TransportWS},
	} {
		o := Options{Addr: tc.addr}
		o.EnsureDefaults()
		if o.Transport != tc.want {
			t.Errorf("%s: transport %v, want %v", tc.addr, o.Transport, tc.want)
		}
		if err := o.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", tc.addr, err)
		}
	}
	var o Options
	o.EnsureDefaults()
	if o.Role != pb.Role_ROLE_VISITOR || o.DialTimeout != DefaultDialTimeout ||
		o.RequestTimeout != DefaultRequestTimeout || o.MessageBuffer != DefaultMessageBuffer ||
		o.ReadBufferSize != DefaultReadBufferSize || o.MaxPayload != DefaultMaxPayload ||
		o.ClientName != DefaultClientName {
		t.Fatalf("defaults: %+v", o)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string // substring of the error; "" = valid
	}{
		{"ok", func(*Options) {}, ""},
		{"no addr", func(o *Options) { o.Addr = "" }, "Addr is required"},
		{"ws without url", func(o *Options) { o.Transport = TransportWS }, "ws://"},
		{"unknown transport", func(o *Options) { o.Transport = 9 }, "unknown transport"},
		{"negative timeout", func(o *Options) { o.RequestTimeout = -1 }, "negative timeout"},
		{"tiny read buffer", func(o *Options) { o.ReadBufferSize = 10 }, "ReadBufferSize"},
		{"huge payload", func(o *Options) { o.MaxPayload = 1 << 30 }, "MaxPayload"},
		{"local ip", func(o *Options) { o.LocalAddr = "127.0.0.3" }, ""},
		{"local ip:port", func(o *Options) { o.LocalAddr = "127.0.0.3:0" }, ""},
		{"bad local", func(o *Options) { o.LocalAddr = "not an address" }, "LocalAddr"},
		{"origin with newline", func(o *Options) {
			o.Transport, o.Addr, o.Origin = TransportWS, "ws://h/ws", "http://a\r\nX-Evil: 1"
		}, "Origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Addr: "127.0.0.1:7100"}
			tc.edit(&o)
			o.EnsureDefaults()
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate = %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestTransportString(t *testing.T) {
	for tr, want := range map[Transport]string{TransportAuto: "auto", TransportFrame: "frame", TransportWS: "ws", 7: "Transport(7)"} {
		if got := tr.String(); got != want {
			t.Errorf("%d: %q, want %q", int(tr), got, want)
		}
	}
}

func TestNewClientMsgID(t *testing.T) {
	var pushed []*pb.Envelope
	c1, _ := scriptClient(TransportFrame, false, nil, &pushed)
	c2, _ := scriptClient(TransportFrame, false, nil, &pushed)
	seen := make(map[string]bool)
	for range 1000 {
		for _, c := range []*Client{c1, c2} {
			id := c.NewClientMsgID()
			if seen[id] {
				t.Fatalf("duplicate client_msg_id %q", id)
			}
			seen[id] = true
		}
	}
	if id := c1.NewClientMsgID(); !strings.HasSuffix(id, "-1001") || len(id) != 16+1+4 {
		t.Fatalf("id %q", id)
	}
}
