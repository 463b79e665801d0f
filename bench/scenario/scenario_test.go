package scenario

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestSchedulePacing: however irregular the ticks, the slots handed out by
// a time are exactly those due by then, at their own times.
func TestSchedulePacing(t *testing.T) {
	for _, rate := range []float64{1, 7.5, 1000, 10000, 123457} {
		start := 5 * time.Second
		s := NewSchedule(start, rate)
		r := rand.New(rand.NewPCG(1, uint64(rate)))
		now := start - time.Millisecond
		var got int64
		last := time.Duration(-1)
		for now < start+2*time.Second {
			now += time.Duration(r.Int64N(int64(3 * time.Millisecond))) // jittery ticks, 0-3ms apart
			due := s.Due(now)
			for {
				at, ok := s.Next(now)
				if !ok {
					break
				}
				if at > now || at <= last {
					t.Fatalf("rate %v: slot at %v handed out at %v after %v", rate, at, now, last)
				}
				last = at
				got++
				due--
			}
			if due != 0 {
				t.Fatalf("rate %v: Due disagreed with Next by %d", rate, due)
			}
			want := int64(float64(now-start)/1e9*rate) + 1
			if d := got - want; d > 1 || d < -1 {
				t.Fatalf("rate %v at +%v: %d slots, want %d", rate, now-start, got, want)
			}
		}
	}
	var none Schedule = NewSchedule(0, 0)
	if _, ok := none.Next(time.Hour); ok || none.Due(time.Hour) != 0 {
		t.Fatal("a zero-rate schedule has slots")
	}
	s := NewSchedule(0, 1000)
	s.Skip(s.Due(time.Second))
	if s.Due(time.Second) != 0 || s.Taken() != 1001 {
		t.Fatalf("Skip: due %d taken %d", s.Due(time.Second), s.Taken())
	}
}

func TestCMID(t *testing.T) {
	for _, c := range []struct {
		k uint64
		t time.Duration
	}{{1, 0}, {42, 123456789}, {1 << 60, time.Duration(1<<62 + 5)}} {
		b := appendCMID(nil, 7, c.k, c.t)
		k, tt, ok := parseCMID(b)
		if !ok || k != c.k || tt != c.t {
			t.Fatalf("%s → %d %v %v", b, k, tt, ok)
		}
	}
	for _, bad := range []string{"", "-", "1-", "-1", "a-1", "1-x", "1-2", "0-1-2-3", "x-1-2", "0--1", "0-99999999999999999999-1", "0-1-99999999999999999999"} {
		if _, _, ok := parseCMID([]byte(bad)); ok {
			t.Errorf("parseCMID(%q) accepted", bad)
		}
	}
}

func TestParseSources(t *testing.T) {
	got, err := ParseSources("127.0.0.1-127.0.0.3, 127.0.1.9,::1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.1.9", "::1"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != netip.MustParseAddr(want[i]) {
			t.Fatalf("%v", got)
		}
	}
	for _, bad := range []string{"x", "127.0.0.5-127.0.0.1", "127.0.0.1-127.0.1.2", "127.0.0.1-::1", "10.0.0.0-10.0.0.255,10.0.1.0-10.0.1.255," +
		strings.Repeat("10.0.2.0-10.0.2.255,", 16)} {
		if _, err := ParseSources(bad); err == nil {
			t.Errorf("ParseSources(%q) accepted", bad)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	ok := Spec{Scenario: "relay", Addr: "127.0.0.1:7000"}
	ok.EnsureDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Spec){
		"scenario":  func(s *Spec) { s.Scenario = "x" },
		"addr":      func(s *Spec) { s.Addr = "nohost" },
		"transport": func(s *Spec) { s.Transport = "mqtt" },
		"conns":     func(s *Spec) { s.Conns = MaxConns + 1 },
		"pairs":     func(s *Spec) { s.Pairs = MaxPairs + 1 },
		"duration":  func(s *Spec) { s.Duration = 2 * MaxDuration },
		"hold":      func(s *Spec) { s.Hold = 2 * MaxDuration },
		"rate":      func(s *Spec) { s.MsgRate = -1 },
		"payload":   func(s *Spec) { s.Payload = MaxPayload + 1 },
		"sources":   func(s *Spec) { s.Sources = []string{"nope"} },
		"mqtt":      func(s *Spec) { s.Transport = "mqtt" }, // relay speaks conversations
		"qos":       func(s *Spec) { s.QoS = 3 },
		"version":   func(s *Spec) { s.MQTTVersion = 3 },
		"fanout":    func(s *Spec) { s.Fanout = MaxFanout + 1 },
	} {
		s := ok
		mod(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: invalid spec accepted", name)
		}
	}
}

func TestSpecValidateMQTT(t *testing.T) {
	ok := Spec{Scenario: "mqtt", Addr: "127.0.0.1:7000"}
	ok.EnsureDefaults()
	if err := ok.Validate(); err != nil || ok.Transport != "mqtt" || ok.MQTTVersion != 4 || ok.Fanout != 1 {
		t.Fatalf("%v %+v", err, ok)
	}
	for name, mod := range map[string]func(*Spec){
		"transport":   func(s *Spec) { s.Transport = "ws" },
		"payload":     func(s *Spec) { s.Payload = MinMQTTPayload - 1 },
		"connections": func(s *Spec) { s.Pairs, s.Fanout = MaxPairs, MaxFanout },
	} {
		s := ok
		mod(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: invalid spec accepted", name)
		}
	}
}

// TestSeeWindow: the duplicate/reorder window agrees with a model that
// remembers every number, for numbers within 64 of the highest.
func TestSeeWindow(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var p mqttPeer
	seen := map[uint64]bool{}
	var hi uint64
	for range 100_000 {
		var k uint64
		switch r.IntN(4) {
		case 0: // a jump ahead
			k = hi + 1 + uint64(r.IntN(100))
		case 1: // the next one
			k = hi + 1
		default: // a recent one, seen or not
			if hi == 0 {
				continue
			}
			k = hi - uint64(r.IntN(int(min(hi, 64))))
		}
		dup, reordered := p.see(k)
		wantDup := seen[k]
		wantReordered := !seen[k] && k < hi
		if dup != wantDup || reordered != wantReordered {
			t.Fatalf("k %d (highest %d): dup %v reordered %v, want %v %v", k, hi, dup, reordered, wantDup, wantReordered)
		}
		seen[k] = true
		hi = max(hi, k)
	}
	if dup, _ := p.see(hi - 64); !dup { // beyond the window: counted as a duplicate
		t.Fatal("a number older than the window is not a duplicate")
	}
}
