package kefu_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/testserver"
	pb "github.com/kefu-im/kefu/proto"
	kefu "github.com/kefu-im/kefu/sdk/go"
)

// nextOf returns the next pushed envelope of type typ (others skipped).
func nextOf(t *testing.T, c *kefu.Client, typ pb.Type) *pb.Envelope {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-c.Messages():
			if m.Type == typ {
				return m
			}
		case <-timeout:
			t.Fatalf("no %v pushed", typ)
		}
	}
}

// TestCustomerServiceRequests: the SDK's agent and visitor requests
// against a kefu with routing on: status push, assignment notice, status,
// close and rate with their OK replies, a refused claim as *ServerError.
func TestCustomerServiceRequests(t *testing.T) {
	s := testserver.Start(t, testserver.WithRouting())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := kefu.Dial(ctx, kefu.Options{Transport: kefu.TransportFrame, Addr: s.Addr(), Site: testserver.Site,
		User: "sdk-cs-agent", Role: pb.Role_ROLE_AGENT, Token: testserver.AgentToken("sdk-cs-agent")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if st := nextOf(t, a, pb.Type_TYPE_STATUS); st.Status != "online" {
		t.Fatalf("status push %v", st)
	}
	v, err := kefu.Dial(ctx, kefu.Options{Transport: kefu.TransportWS, Addr: s.WSURL(), Site: testserver.Site,
		User: "sdk-cs-visitor", Role: pb.Role_ROLE_VISITOR})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	page, err := v.Open(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	conv := page.End.Conversation
	if n := nextOf(t, a, pb.Type_TYPE_NOTICE); n.Event != "assigned" || n.Conversation != conv {
		t.Fatalf("notice %v", n)
	}
	if _, err := a.Claim(ctx, ""); err == nil {
		t.Fatal("claim with an empty queue succeeded")
	}
	if ok, err := a.SetStatus(ctx, "away"); err != nil || ok.Type != pb.Type_TYPE_OK || ok.Status != "away" {
		t.Fatalf("status: %v %v", ok, err)
	}
	if ok, err := a.CloseConversation(ctx, conv); err != nil || ok.Type != pb.Type_TYPE_OK {
		t.Fatalf("close: %v %v", ok, err)
	}
	if ok, err := v.Rate(ctx, conv, 5, "quick"); err != nil || ok.Type != pb.Type_TYPE_OK {
		t.Fatalf("rate: %v %v", ok, err)
	}
	if _, err := v.Rate(ctx, conv, 4, ""); err == nil {
		t.Fatal("second rating accepted")
	}
}
