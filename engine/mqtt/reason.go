package mqtt

// Reason says why the broker ends a connection (or refuses one). Each has
// an MQTT 5 reason code, sent in the DISCONNECT (or CONNACK) when the client
// speaks MQTT 5, and a metric label.
type Reason uint8

// Close reasons.
const (
	ReasonNone Reason = iota
	// ReasonNormal: the client sent DISCONNECT (reason 0x00 or 0x04).
	ReasonNormal
	// ReasonMalformed: a malformed packet (0x81).
	ReasonMalformed
	// ReasonProtocol: a protocol error (0x82): a packet before CONNECT, a
	// second CONNECT, a server-to-client packet type, an unknown alias, …
	ReasonProtocol
	// ReasonTooLarge: a packet over the maximum packet size (0x95).
	ReasonTooLarge
	// ReasonTopicAlias: a topic alias of 0 or above the maximum (0x94).
	ReasonTopicAlias
	// ReasonTopicInvalid: a topic name with wildcards or empty (0x90).
	ReasonTopicInvalid
	// ReasonReceiveMaximum: more unacknowledged QoS 2 PUBLISH than the
	// broker's Receive Maximum (0x93).
	ReasonReceiveMaximum
	// ReasonTakeover: another connection took the session over (0x8E).
	ReasonTakeover
	// ReasonKeepAlive: nothing received for 1.5 × the keep alive (0x8D).
	ReasonKeepAlive
	// ReasonShutdown: the server is shutting down (0x8B).
	ReasonShutdown
	// ReasonSlowConsumer: the client's outbound queue is over its limit
	// (0x97 quota exceeded).
	ReasonSlowConsumer
	// ReasonRetainUnsupported: a retained PUBLISH while retain is disabled
	// (0x9A).
	ReasonRetainUnsupported
	// ReasonSubIDUnsupported: a subscription identifier while they are
	// disabled (0xA1).
	ReasonSubIDUnsupported
	// ReasonBadCredentials: CONNECT refused, bad user name or password
	// (0x86; 0x04 in 3.1.1).
	ReasonBadCredentials
	// ReasonNotAuthorized: CONNECT refused, not authorized (0x87; 0x05).
	ReasonNotAuthorized
	// ReasonBadVersion: CONNECT refused, unsupported protocol version
	// (0x84; 0x01).
	ReasonBadVersion
	// ReasonBadClientID: CONNECT refused, client identifier not valid
	// (0x85; 0x02).
	ReasonBadClientID
	// ReasonBadAuthMethod: CONNECT with an authentication method; enhanced
	// authentication is not supported (0x8C).
	ReasonBadAuthMethod
	// ReasonAdministrative: closed by an operator or the engine (0x98).
	ReasonAdministrative
	// ReasonRateLimit: the client publishes faster than allowed (0x96).
	ReasonRateLimit
	// ReasonConnectionRate: the server refuses connections faster than
	// allowed (0x9F).
	ReasonConnectionRate
	// ReasonServerBusy: the server cannot take the client now (0x89).
	ReasonServerBusy
	numReasons
)

var reasonInfo = [numReasons]struct {
	code  byte
	label string
}{
	ReasonNone:              {0x00, "none"},
	ReasonNormal:            {0x00, "normal"},
	ReasonMalformed:         {0x81, "malformed"},
	ReasonProtocol:          {0x82, "protocol_error"},
	ReasonTooLarge:          {0x95, "packet_too_large"},
	ReasonTopicAlias:        {0x94, "topic_alias_invalid"},
	ReasonTopicInvalid:      {0x90, "topic_name_invalid"},
	ReasonReceiveMaximum:    {0x93, "receive_maximum_exceeded"},
	ReasonTakeover:          {0x8E, "session_taken_over"},
	ReasonKeepAlive:         {0x8D, "keep_alive_timeout"},
	ReasonShutdown:          {0x8B, "server_shutting_down"},
	ReasonSlowConsumer:      {0x97, "slow_consumer"},
	ReasonRetainUnsupported: {0x9A, "retain_not_supported"},
	ReasonSubIDUnsupported:  {0xA1, "subscription_ids_not_supported"},
	ReasonBadCredentials:    {0x86, "bad_credentials"},
	ReasonNotAuthorized:     {0x87, "not_authorized"},
	ReasonBadVersion:        {0x84, "unsupported_version"},
	ReasonBadClientID:       {0x85, "client_id_not_valid"},
	ReasonBadAuthMethod:     {0x8C, "bad_authentication_method"},
	ReasonAdministrative:    {0x98, "administrative_action"},
	ReasonRateLimit:         {0x96, "message_rate_too_high"},
	ReasonConnectionRate:    {0x9F, "connection_rate_exceeded"},
	ReasonServerBusy:        {0x89, "server_busy"},
}

// Code is the MQTT 5 reason code of r.
func (r Reason) Code() byte {
	if r >= numReasons {
		return 0x80
	}
	return reasonInfo[r].code
}

// String is r's metric label.
func (r Reason) String() string {
	if r >= numReasons {
		return "unknown"
	}
	return reasonInfo[r].label
}

// disconnectCode is r's code for a DISCONNECT: the CONNACK-only codes
// (0x84, 0x85, 0x86, 0x8C) become 0x80, unspecified error (MQTT 5
// §3.14.2.1).
func (r Reason) disconnectCode() byte {
	switch c := r.Code(); c {
	case 0x84, 0x85, 0x86, 0x8C:
		return 0x80
	default:
		return c
	}
}

// reasonForCode maps a reason code from the codec to a Reason.
func reasonForCode(code byte) Reason {
	switch code {
	case 0x81:
		return ReasonMalformed
	case 0x84:
		return ReasonBadVersion
	case 0x85:
		return ReasonBadClientID
	case 0x90:
		return ReasonTopicInvalid
	case 0x94:
		return ReasonTopicAlias
	case 0x95:
		return ReasonTooLarge
	}
	return ReasonProtocol
}
