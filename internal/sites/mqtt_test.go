package sites

import (
	"errors"
	"testing"
	"time"

	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/internal/token"
)

func TestAuthenticateMQTT(t *testing.T) {
	secret := []byte("site-secret-0123456789")
	now := time.Unix(1_800_000_000, 0)
	s, err := New([]Site{{ID: "demo", Secret: secret}}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	a := s.MQTTAuth("auto-")
	tok := token.Sign(secret, "demo", DeviceRole, "dev-1", now.Add(time.Hour))
	tests := []struct {
		name, clientID, user, pass string
		want                       error
	}{
		{"client id = user name", "demo/dev-1", "demo/dev-1", tok, nil},
		{"client id below the user name", "demo/dev-1/sensor:a", "demo/dev-1", tok, nil},
		{"assigned client id", "auto-0123456789abcdefghij", "demo/dev-1", tok, nil},
		{"client id of another device", "demo/dev-2", "demo/dev-1", tok, mqtt.ErrNotAuthorized},
		{"client id sharing a prefix", "demo/dev-10", "demo/dev-1", tok, mqtt.ErrNotAuthorized},
		{"unknown site", "shop/dev-1", "shop/dev-1", tok, mqtt.ErrNotAuthorized},
		{"no device", "demo", "demo", tok, mqtt.ErrBadCredentials},
		{"bad device id", "demo/a+b", "demo/a+b", tok, mqtt.ErrBadCredentials},
		{"nested user name", "demo/dev-1/x", "demo/dev-1/x", tok, mqtt.ErrBadCredentials},
		{"empty password", "demo/dev-1", "demo/dev-1", "", mqtt.ErrBadCredentials},
		{"token of another device", "demo/dev-2", "demo/dev-2", tok, mqtt.ErrBadCredentials},
		{"agent token", "demo/dev-1", "demo/dev-1", token.Sign(secret, "demo", "agent", "dev-1", now.Add(time.Hour)), mqtt.ErrBadCredentials},
		{"expired token", "demo/dev-1", "demo/dev-1", token.Sign(secret, "demo", DeviceRole, "dev-1", now), mqtt.ErrBadCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := a.AuthenticateMQTT(tc.clientID, tc.user, []byte(tc.pass))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && (id.Site != "demo" || id.Device != "dev-1" || id.Username != tc.user) {
				t.Fatalf("identity %+v", id)
			}
		})
	}
	if _, err := s.MQTTAuth("").AuthenticateMQTT("auto-x", "demo/dev-1", []byte(tok)); !errors.Is(err, mqtt.ErrNotAuthorized) {
		t.Fatalf("no assigned prefix: %v", err)
	}
}

func TestMQTTTopicACL(t *testing.T) {
	secret := []byte("site-secret-0123456789")
	s, _ := New([]Site{{ID: "demo", Secret: secret}}, nil)
	a := s.MQTTAuth("auto-")
	id, err := a.AuthenticateMQTT("demo/dev-1", "demo/dev-1", []byte(token.Sign(secret, "demo", DeviceRole, "dev-1", time.Now().Add(time.Hour))))
	if err != nil {
		t.Fatal(err)
	}
	for topic, ok := range map[string]bool{
		"kefu/demo/dev-1/up":      true,
		"kefu/demo/dev-1/":        true,
		"kefu/demo/dev-1/+/state": true,
		"kefu/demo/dev-1/#":       true,
		"kefu/demo/dev-1":         false,
		"kefu/demo/dev-10/up":     false,
		"kefu/demo/dev-2/up":      false,
		"kefu/demo/+/up":          false,
		"kefu/other/dev-1/up":     false,
		"#":                       false,
		"$SYS/broker":             false,
		"":                        false,
	} {
		if got := a.CanPublish(&id, topic); got != ok {
			t.Errorf("CanPublish(%q) = %v, want %v", topic, got, ok)
		}
		if got := a.CanSubscribe(&id, topic); got != ok {
			t.Errorf("CanSubscribe(%q) = %v, want %v", topic, got, ok)
		}
	}
	if a.CanPublish(&mqtt.Identity{}, "kefu/demo/dev-1/up") {
		t.Error("an identity without a root may publish")
	}
}
