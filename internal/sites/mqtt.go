package sites

import (
	"strings"

	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/internal/token"
)

// MQTT devices (docs/protocol-mqtt.md §Authentication).
//
//	user name:  <site>/<device>          both ValidID
//	password:   token.Sign(site secret, site, "device", device, exp)
//	client id:  <site>/<device>, <site>/<device>/<anything>, or empty
//	            (the broker assigns one)
//	topics:     kefu/<site>/<device>/...  (publish and subscribe)
const (
	// DeviceRole is the token role of an MQTT device.
	DeviceRole = "device"
	// TopicRoot is the first level of every topic a device may use.
	TopicRoot = "kefu"
)

// MQTTAuth authenticates MQTT devices against the sites of a Static and
// keeps each device to its own topic subtree. It implements
// mqtt.Authenticator and mqtt.Authorizer; it is immutable and safe for
// concurrent use, and runs on event loops without I/O.
type MQTTAuth struct {
	s        *Static
	assigned string
}

// MQTTAuth returns the MQTT authenticator and authorizer of s.
// assignedIDPrefix is the broker's mqtt.Options.AssignedIDPrefix: client
// identifiers the broker assigns (100 random bits after the prefix) are
// accepted for any device.
func (s *Static) MQTTAuth(assignedIDPrefix string) *MQTTAuth {
	return &MQTTAuth{s: s, assigned: assignedIDPrefix}
}

// deviceRoot is what an authenticated device's mqtt.Identity.Data holds:
// its topic root "kefu/<site>/<device>".
type deviceRoot string

// AuthenticateMQTT implements mqtt.Authenticator. A user name that is not
// <site>/<device>, or a password that is not a valid, unexpired device
// token for them, is refused with mqtt.ErrBadCredentials (0x86; 3.1.1:
// 0x04); an unknown site, or a client identifier that belongs to no
// device of the user, with mqtt.ErrNotAuthorized (0x87; 0x05). Tokens are
// compared in constant time (token.Verify).
//
// The client identifier rule keeps one device (or tenant) from taking over
// the session of another: sessions are keyed by client identifier.
func (a *MQTTAuth) AuthenticateMQTT(clientID, username string, password []byte) (mqtt.Identity, error) {
	site, device, ok := strings.Cut(username, "/")
	if !ok || !ValidID(site) || !ValidID(device) {
		return mqtt.Identity{}, mqtt.ErrBadCredentials
	}
	secret, known := a.s.secrets[site]
	if !known {
		return mqtt.Identity{}, mqtt.ErrNotAuthorized
	}
	if token.Verify(secret, string(password), site, DeviceRole, device, a.s.now()) != nil {
		return mqtt.Identity{}, mqtt.ErrBadCredentials
	}
	if !a.ownsClientID(clientID, username) {
		return mqtt.Identity{}, mqtt.ErrNotAuthorized
	}
	return mqtt.Identity{
		Username: username,
		Site:     site,
		Device:   device,
		Data:     deviceRoot(TopicRoot + "/" + username),
	}, nil
}

// ownsClientID reports whether a device signed in as username may use
// clientID.
func (a *MQTTAuth) ownsClientID(clientID, username string) bool {
	switch {
	case clientID == username:
		return true
	case len(clientID) > len(username) && clientID[len(username)] == '/' && clientID[:len(username)] == username:
		return true
	}
	return a.assigned != "" && strings.HasPrefix(clientID, a.assigned)
}

// CanPublish implements mqtt.Authorizer: a device publishes under its own
// root only.
func (a *MQTTAuth) CanPublish(id *mqtt.Identity, topic string) bool { return underRoot(id, topic) }

// CanSubscribe implements mqtt.Authorizer: a device subscribes under its
// own root only; wildcards below the root ("kefu/demo/dev-1/+/state",
// "kefu/demo/dev-1/#") stay inside it, since site and device ids contain
// neither '/', '+' nor '#'.
func (a *MQTTAuth) CanSubscribe(id *mqtt.Identity, filter string) bool { return underRoot(id, filter) }

// underRoot reports whether t lies below the device's root: the root, a
// '/', then at least nothing (an empty level is a level).
func underRoot(id *mqtt.Identity, t string) bool {
	root, _ := id.Data.(deviceRoot)
	n := len(root)
	return n > 0 && len(t) > n && t[n] == '/' && t[:n] == string(root)
}
