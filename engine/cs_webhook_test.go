package engine_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/internal/server"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/kefu-im/kefu/internal/testutil"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard/routing"
)

// TestWebhooksFromConversations: a conversation's life (created, assigned,
// a message, closed, rated) reaches a site's endpoint as signed POSTs, each
// event once per event id, although the receiver fails every event's
// first two attempts.
func TestWebhooksFromConversations(t *testing.T) {
	type delivery struct {
		id, typ string
		body    map[string]any
	}
	var (
		mu        sync.Mutex
		attempts  = map[string]int{}
		delivered []delivery
		secret    = "whsec-test-0123456789abcdef0123456789"
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		id := r.Header.Get(webhook.HeaderEventID)
		ts, _ := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64)
		if want := string(webhook.AppendSignature(nil, secret, ts, b)); r.Header.Get(webhook.HeaderSignature) != want {
			t.Errorf("event %s: bad signature %q", id, r.Header.Get(webhook.HeaderSignature))
		}
		mu.Lock()
		defer mu.Unlock()
		attempts[id]++
		if attempts[id] <= 2 {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		m := map[string]any{}
		_ = json.Unmarshal(b, &m)
		delivered = append(delivered, delivery{id, r.Header.Get(webhook.HeaderEventType), m})
	}))
	defer recv.Close()

	fast := func(c *server.Config) {
		c.Webhooks.BackoffBase, c.Webhooks.BackoffMax, c.Webhooks.PollInterval = 20*time.Millisecond, 50*time.Millisecond, 20*time.Millisecond
	}
	s := testserver.Start(t, testserver.WithRouting(), fast)
	// A directory site with an agent who logs in, as through the REST API.
	const site = "shop"
	if _, err := s.Accounts.CreateSite(site, nil, accounts.Settings{}); err != nil {
		t.Fatal(err)
	}
	alice, pw, err := s.Accounts.CreateAgent(site, accounts.AgentSpec{Email: "alice@shop.example", Name: "Alice", Capacity: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Router.Desk().SetAgent(t.Context(), routing.Agent{ID: alice.ID, Site: site, Capacity: 2, Weight: 1}); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Accounts.Login(site, "alice@shop.example", pw)
	if err != nil {
		t.Fatal(err)
	}
	hook, err := s.Accounts.CreateWebhook(site, accounts.WebhookSpec{URL: recv.URL, Secret: secret, Events: webhook.EventTypes[:]})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Outbox.SetEndpoints(site, []webhook.Endpoint{hook.Endpoint()}); err != nil {
		t.Fatal(err)
	}

	ag := dialGorilla(t, s.WSURL(), nil)
	defer ag.close()
	ag.send(t, &proto.Envelope{Type: proto.Type_TYPE_HELLO, Id: 1,
		Hello: &proto.Hello{Site: site, Role: proto.Role_ROLE_AGENT, User: alice.ID, Token: sess.Token}})
	expect(t, ag, proto.Type_TYPE_WELCOME)
	v := dialGorilla(t, s.WSURL(), nil)
	defer v.close()
	v.send(t, &proto.Envelope{Type: proto.Type_TYPE_HELLO, Id: 1,
		Hello: &proto.Hello{Site: site, Role: proto.Role_ROLE_VISITOR, User: "wv"}})
	expect(t, v, proto.Type_TYPE_WELCOME)
	v.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
	j := await(t, v, "JOINED", isType(proto.Type_TYPE_JOINED, 2))
	var sys map[string]any
	await(t, v, "assigned", isSystem("assigned", j.Conversation, &sys))
	if sys["agent"] != alice.ID || sys["name"] != "Alice" {
		t.Fatalf("assigned message %v, want agent %s named Alice", sys, alice.ID)
	}
	v.send(t, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 3, Conversation: j.Conversation, Body: "order 42?", ClientMsgId: "w1"})
	await(t, v, "ACK", isType(proto.Type_TYPE_ACK, 3))
	v.send(t, &proto.Envelope{Type: proto.Type_TYPE_CLOSE, Id: 4, Conversation: j.Conversation})
	await(t, v, "OK", isType(proto.Type_TYPE_OK, 4))
	v.send(t, &proto.Envelope{Type: proto.Type_TYPE_RATE, Id: 5, Conversation: j.Conversation, Rating: 4})
	await(t, v, "OK", isType(proto.Type_TYPE_OK, 5))

	want := []string{"conversation.created", "conversation.assigned", "message.created", "conversation.closed", "conversation.rated"}
	testutil.WaitFor(t, 15*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) >= len(want)
	})
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive by now
	mu.Lock()
	defer mu.Unlock()
	types := map[string]int{}
	ids := map[string]bool{}
	for _, d := range delivered {
		if ids[d.id] {
			t.Errorf("event %s delivered twice", d.id)
		}
		ids[d.id] = true
		types[d.typ]++
		if data, _ := d.body["data"].(map[string]any); data == nil || data["conversation"] == nil {
			t.Errorf("event %s without conversation data: %v", d.id, d.body)
		}
	}
	for _, w := range want {
		if types[w] != 1 {
			t.Errorf("%s delivered %d times, want once (all: %v)", w, types[w], types)
		}
	}
	for id, n := range attempts {
		if n != 3 {
			t.Errorf("event %s: %d attempts, want 3 (two failures, then success)", id, n)
		}
	}
}
