package kefu_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/kefu-im/kefu/internal/testutil"
	pb "github.com/kefu-im/kefu/proto"
	kefu "github.com/kefu-im/kefu/sdk/go"
)

// TestAgainstRealServer: the SDK on every transport against a real kefu:
// open, join, send, receive, ping, resume with cursors after a reconnect.
func TestAgainstRealServer(t *testing.T) {
	s := testserver.Start(t)
	modes := []struct {
		name string
		opts func(kefu.Options) kefu.Options
	}{
		{"frame", func(o kefu.Options) kefu.Options { o.Transport, o.Addr = kefu.TransportFrame, s.Addr(); return o }},
		{"ws-json", func(o kefu.Options) kefu.Options { o.Transport, o.Addr = kefu.TransportWS, s.WSURL(); return o }},
		{"ws-proto", func(o kefu.Options) kefu.Options {
			o.Transport, o.Addr, o.Binary = kefu.TransportWS, s.WSURL(), true
			return o
		}},
	}
	for _, vm := range modes {
		for _, am := range modes {
			t.Run(vm.name+"/"+am.name, func(t *testing.T) {
				testutil.CheckGoroutineLeaks(t)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				vUser := "sdk-v-" + vm.name + "-" + am.name
				v, err := kefu.Dial(ctx, vm.opts(kefu.Options{Site: testserver.Site, User: vUser, Role: pb.Role_ROLE_VISITOR}))
				if err != nil {
					t.Fatal(err)
				}
				defer v.Close()
				if v.Identity() != "v:"+vUser {
					t.Fatalf("identity %q", v.Identity())
				}
				page, err := v.Open(ctx, "", 0)
				if err != nil {
					t.Fatal(err)
				}
				conv := page.End.Conversation
				aOpts := am.opts(kefu.Options{Site: testserver.Site, User: "sdk-agent", Role: pb.Role_ROLE_AGENT,
					Token: testserver.AgentToken("sdk-agent")})
				a, err := kefu.Dial(ctx, aOpts)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := a.Join(ctx, conv, 0); err != nil {
					t.Fatal(err)
				}
				if rtt, err := a.Ping(ctx); err != nil || rtt <= 0 {
					t.Fatalf("ping: %v %v", rtt, err)
				}
				const n = 20
				done := make(chan error, n)
				for i := range n {
					if err := v.SendAsync(conv, fmt.Sprintf("m%d", i), fmt.Sprintf("async %d", i), func(ack *pb.Envelope, err error) { done <- err }); err != nil {
						t.Fatal(err)
					}
				}
				for range n {
					if err := <-done; err != nil {
						t.Fatal(err)
					}
				}
				for i := range n {
					m := <-a.Messages()
					if m.Seq != uint64(i+1) || m.Body != fmt.Sprintf("async %d", i) {
						t.Fatalf("agent got %v", m)
					}
				}
				// The agent drops, the visitor sends more, the agent resumes.
				_ = a.Close()
				for i := range 3 {
					if _, err := v.Send(ctx, conv, "", fmt.Sprintf("while away %d", i)); err != nil {
						t.Fatal(err)
					}
				}
				aOpts.Cursors = map[string]uint64{conv: n}
				a, err = kefu.Dial(ctx, aOpts)
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				var got []uint64
				for len(got) < 3 {
					select {
					case m := <-a.Messages():
						if m.Type == pb.Type_TYPE_MESSAGE {
							got = append(got, m.Seq)
						}
					case <-ctx.Done():
						t.Fatalf("resumed agent got %v", got)
					}
				}
				if fmt.Sprint(got) != "[21 22 23]" {
					t.Fatalf("resumed agent got %v", got)
				}
				ack, err := a.Send(ctx, conv, "", "welcome back")
				if err != nil || ack.Seq != n+4 {
					t.Fatalf("agent send: %v %v", ack, err)
				}
				select {
				case m := <-v.Messages():
					if m.Body != "welcome back" {
						t.Fatalf("visitor got %v", m)
					}
				case <-ctx.Done():
					t.Fatal("visitor got nothing")
				}
			})
		}
	}
}
