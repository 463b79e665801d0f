package webhook

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	urls := []struct {
		url string
		ok  bool
	}{
		{"https://example.com/hook", true},
		{"http://127.0.0.1:8080", true},
		{"http://[::1]:9/x?y=1", true},
		{"ftp://example.com/", false},
		{"https:///path", false},
		{"example.com/hook", false},
		{"", false},
		{"http://%zz", false},
		{"javascript:alert(1)", false},
	}
	for _, tt := range urls {
		if err := ValidURL(tt.url); (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrURL)) {
			t.Errorf("ValidURL(%q) = %v", tt.url, err)
		}
	}
	good := endpoint("e", "https://example.com")
	eps := []struct {
		name string
		mod  func(*Endpoint)
		want error
	}{
		{"ok", func(*Endpoint) {}, nil},
		{"no id", func(e *Endpoint) { e.ID = "" }, ErrEndpoint},
		{"long id", func(e *Endpoint) { e.ID = string(make([]byte, 65)) }, ErrEndpoint},
		{"no secret", func(e *Endpoint) { e.Secret = "" }, ErrEndpoint},
		{"no events", func(e *Endpoint) { e.Events = nil }, ErrEndpoint},
		{"bad event", func(e *Endpoint) { e.Events = []EventType{"message.deleted"} }, ErrEventType},
		{"bad url", func(e *Endpoint) { e.URL = "tcp://x" }, ErrURL},
	}
	for _, tt := range eps {
		e := good
		tt.mod(&e)
		if err := e.Validate(); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	o := &Outbox{endpoints: map[string][]Endpoint{}}
	if err := o.SetEndpoints("s", []Endpoint{good, good}); !errors.Is(err, ErrEndpoint) {
		t.Errorf("duplicate ids: %v", err)
	}
	if err := o.SetEndpoints("", nil); !errors.Is(err, ErrSite) {
		t.Errorf("empty site: %v", err)
	}
	opts := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"zero", Options{}, true},
		{"negative timeout", Options{Timeout: -1}, false},
		{"max < base", Options{BackoffBase: time.Minute, BackoffMax: time.Second}, false},
		{"attempts", Options{MaxAttempts: -1}, false},
		{"concurrency", Options{Concurrency: 1000}, false},
		{"poll", Options{PollInterval: -time.Second}, false},
	}
	for _, tt := range opts {
		tt.o.EnsureDefaults()
		if err := tt.o.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	var d Options
	d.EnsureDefaults()
	if d.Timeout != 10*time.Second || d.BackoffBase != time.Second || d.BackoffMax != 10*time.Minute || d.MaxAttempts != 8 {
		t.Errorf("defaults %+v", d)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	body := []byte(`{"id":"evt_1"}`)
	sig := string(AppendSignature(nil, "s3cret", now.Unix(), body))
	ts := "1900000000"
	tests := []struct {
		name            string
		secret, sig, ts string
		body            []byte
		now             time.Time
		want            error
	}{
		{"ok", "s3cret", sig, ts, body, now, nil},
		{"ok within tolerance", "s3cret", sig, ts, body, now.Add(4 * time.Minute), nil},
		{"stale", "s3cret", sig, ts, body, now.Add(6 * time.Minute), ErrTimestamp},
		{"future", "s3cret", sig, ts, body, now.Add(-6 * time.Minute), ErrTimestamp},
		{"bad ts", "s3cret", sig, "x", body, now, ErrTimestamp},
		{"ts rewritten", "s3cret", sig, "01900000000", body, now, ErrSignature},
		{"wrong secret", "other", sig, ts, body, now, ErrSignature},
		{"body changed", "s3cret", sig, ts, []byte(`{"id":"evt_2"}`), now, ErrSignature},
		{"no scheme", "s3cret", sig[3:], ts, body, now, ErrSignature},
		{"empty", "s3cret", "", ts, body, now, ErrSignature},
	}
	for _, tt := range tests {
		if err := Verify(tt.secret, tt.sig, tt.ts, tt.body, tt.now, 5*time.Minute); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	// Known answer (computed with openssl: printf '1900000000.{"id":"evt_1"}'
	// | openssl dgst -sha256 -hmac s3cret).
	const known = "v1=6f52d0bd6736f66ef576803c8b3399ca923ceb6bed98ac619583f642cb63d828"
	if sig != known {
		t.Errorf("signature %q, want %q", sig, known)
	}
}

func TestBackoff(t *testing.T) {
	o := &Outbox{opts: Options{BackoffBase: time.Second, BackoffMax: 10 * time.Minute}}
	for n := 1; n <= 100; n++ {
		d := time.Second << (n - 1)
		if n > 20 || d > 10*time.Minute {
			d = 10 * time.Minute
		}
		for range 50 {
			if got := o.backoff(n); got < d/2 || got >= d {
				t.Fatalf("backoff(%d) = %v, want [%v, %v)", n, got, d/2, d)
			}
		}
	}
}

func TestKeys(t *testing.T) {
	k := appendPendingKey(nil, 1<<40+5, "acme", "evt_1", "main")
	due, site, id, ep, ok := parsePendingKey(k)
	if !ok || due != 1<<40+5 || string(site) != "acme" || string(id) != "evt_1" || string(ep) != "main" {
		t.Errorf("pending round trip: %v %d %q %q %q", ok, due, site, id, ep)
	}
	// Due-time order is key order.
	if bytes.Compare(appendPendingKey(nil, 255, "z", "z", "z"), appendPendingKey(nil, 256, "a", "a", "a")) >= 0 {
		t.Error("pending keys not ordered by due time")
	}
	d := appendDeadKey(nil, "acme", "evt_1", "main")
	site, id, ep, ok = parseDeadKey(d)
	if !ok || string(site) != "acme" || string(id) != "evt_1" || string(ep) != "main" {
		t.Errorf("dead round trip: %v %q %q %q", ok, site, id, ep)
	}
	if !bytes.HasPrefix(d, appendDeadPrefix(nil, "acme")) || bytes.HasPrefix(d, appendDeadPrefix(nil, "acm")) {
		t.Error("dead prefix not site-exact")
	}
	for _, bad := range [][]byte{nil, {'o'}, {'o', 'p'}, k[:len(k)-1], append(bytes.Clone(k), 0), d[:len(d)-1]} {
		if _, _, _, _, ok := parsePendingKey(bad); ok {
			t.Errorf("parsePendingKey(%x) accepted", bad)
		}
		if _, _, _, ok := parseDeadKey(bad); ok && !bytes.Equal(bad, d) {
			t.Errorf("parseDeadKey(%x) accepted", bad)
		}
	}
}

// FuzzParseKey: the key parsers never panic, and what parses re-encodes to
// the same bytes.
func FuzzParseKey(f *testing.F) {
	f.Add(appendPendingKey(nil, 42, "acme", "evt_1", "main"))
	f.Add(appendDeadKey(nil, "acme", "evt_1", "main"))
	f.Add([]byte("op"))
	f.Fuzz(func(t *testing.T, key []byte) {
		if due, site, id, ep, ok := parsePendingKey(key); ok {
			if re := appendPendingKey(nil, due, string(site), string(id), string(ep)); !bytes.Equal(re, key) {
				t.Fatalf("pending %x re-encodes to %x", key, re)
			}
		}
		if site, id, ep, ok := parseDeadKey(key); ok {
			if re := appendDeadKey(nil, string(site), string(id), string(ep)); !bytes.Equal(re, key) {
				t.Fatalf("dead %x re-encodes to %x", key, re)
			}
		}
		if r, err := decodeRecord(key); err == nil {
			if _, err := decodeRecord(r.encode()); err != nil {
				t.Fatalf("record %q does not round trip: %v", key, err)
			}
		}
	})
}
