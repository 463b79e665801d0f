package mqtt

import (
	"bytes"
	"strings"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Detach makes pk independent of the buffer it was decoded from: it copies
// every string and byte slice that Decode left aliasing src (topic,
// payload, client identifier, user name, password, protocol name, will
// topic, payload and properties, properties, filters, reason codes). Call it
// only for what outlives the buffer; a broker that copies the few fields it
// keeps (a message's topic and payload) need not detach the whole packet.
func Detach(pk *packets.Packet) {
	pk.TopicName = strings.Clone(pk.TopicName)
	pk.Origin = strings.Clone(pk.Origin)
	pk.Payload = cloneBytes(pk.Payload)
	pk.ReasonCodes = cloneBytes(pk.ReasonCodes)
	c := &pk.Connect
	c.ClientIdentifier = strings.Clone(c.ClientIdentifier)
	c.WillTopic = strings.Clone(c.WillTopic)
	c.WillPayload = cloneBytes(c.WillPayload)
	c.Username = cloneBytes(c.Username)
	c.Password = cloneBytes(c.Password)
	c.ProtocolName = cloneBytes(c.ProtocolName)
	detachProps(&c.WillProperties)
	detachProps(&pk.Properties)
	if pk.Filters != nil {
		fs := make(packets.Subscriptions, len(pk.Filters))
		for i, f := range pk.Filters {
			f.Filter = strings.Clone(f.Filter)
			if f.ShareName != nil {
				names := make([]string, len(f.ShareName))
				for j, s := range f.ShareName {
					names[j] = strings.Clone(s)
				}
				f.ShareName = names
			}
			if f.Identifiers != nil {
				ids := make(map[string]int, len(f.Identifiers))
				for k, v := range f.Identifiers {
					ids[strings.Clone(k)] = v
				}
				f.Identifiers = ids
			}
			fs[i] = f
		}
		pk.Filters = fs
	}
}

func detachProps(p *packets.Properties) {
	p.CorrelationData = cloneBytes(p.CorrelationData)
	p.AuthenticationData = cloneBytes(p.AuthenticationData)
	p.ContentType = strings.Clone(p.ContentType)
	p.ResponseTopic = strings.Clone(p.ResponseTopic)
	p.AssignedClientID = strings.Clone(p.AssignedClientID)
	p.AuthenticationMethod = strings.Clone(p.AuthenticationMethod)
	p.ResponseInfo = strings.Clone(p.ResponseInfo)
	p.ServerReference = strings.Clone(p.ServerReference)
	p.ReasonString = strings.Clone(p.ReasonString)
	if p.SubscriptionIdentifier != nil {
		p.SubscriptionIdentifier = append([]int(nil), p.SubscriptionIdentifier...)
	}
	if p.User != nil {
		us := make([]packets.UserProperty, len(p.User))
		for i, u := range p.User {
			us[i] = packets.UserProperty{Key: strings.Clone(u.Key), Val: strings.Clone(u.Val)}
		}
		p.User = us
	}
}

// cloneBytes copies b, keeping nil as nil and empty as empty.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return bytes.Clone(b)
}
