package mqtt

import (
	"slices"
	"testing"
)

func TestValidFilter(t *testing.T) {
	for _, c := range []struct {
		f  string
		ok bool
	}{
		{"a", true}, {"a/b/c", true}, {"#", true}, {"+", true}, {"a/#", true}, {"a/+/c", true},
		{"+/+", true}, {"/", true}, {"a//b", true}, {"/+", true}, {"$SYS/#", true}, {"sport/tennis/#", true},
		{"", false}, {"a#", false}, {"a/#/b", false}, {"#/a", false}, {"a+", false}, {"a/b+", false},
		{"+a", false}, {"a/+b/c", false}, {"\xff", false}, {"a\x00b", false},
	} {
		if got := validFilter(c.f); got != c.ok {
			t.Errorf("validFilter(%q) = %v, want %v", c.f, got, c.ok)
		}
	}
}

func TestParseFilter(t *testing.T) {
	for _, c := range []struct {
		raw, group, filter string
		ok                 bool
	}{
		{"a/b", "", "a/b", true},
		{"$share/g/a/b", "g", "a/b", true},
		{"$share/g/#", "g", "#", true},
		{"$share/g/+/x", "g", "+/x", true},
		{"$share/g", "", "", false},
		{"$share//a", "", "", false},
		{"$share/g+/a", "", "", false},
		{"$share/g/", "g", "", false},
		{"$share/g/a#", "g", "a#", false},
		{"$SHARE/g/a", "", "$SHARE/g/a", true}, // case-sensitive: an ordinary filter
	} {
		g, f, ok := parseFilter(c.raw)
		if g != c.group || f != c.filter || ok != c.ok {
			t.Errorf("parseFilter(%q) = %q %q %v", c.raw, g, f, ok)
		}
	}
}

func TestValidTopicName(t *testing.T) {
	for _, c := range []struct {
		t  string
		ok bool
	}{{"a", true}, {"a/b", true}, {"/", true}, {"$SYS/x", true}, {"", false}, {"a/+", false}, {"#", false}, {"a\x00", false}, {"\xc3\x28", false}} {
		if got := validTopicName(c.t); got != c.ok {
			t.Errorf("validTopicName(%q) = %v", c.t, got)
		}
	}
}

// TestIndexMatch is the topic matching table of MQTT 5 §4.7 and 3.1.1
// §4.7, with each filter subscribed by its own session.
func TestIndexMatch(t *testing.T) {
	filters := []string{
		"sport/tennis/player1", "sport/tennis/player1/#", "sport/#", "#", "+", "+/+", "/+", "sport/+",
		"sport/tennis/+", "+/tennis/#", "$SYS/#", "$SYS/monitor/+", "+/monitor/Clients", "a//b", "a/+/b",
		"finance", "/finance", "a/#",
	}
	var x index
	sessions := map[*session]string{}
	for i, f := range filters {
		s := &session{id: f, serial: uint64(i)}
		sessions[s] = f
		x.subscribe(s, "", f, subOpts{qos: 1})
	}
	for _, c := range []struct {
		topic string
		want  []string
	}{
		{"sport/tennis/player1", []string{"#", "+/tennis/#", "sport/#", "sport/tennis/+", "sport/tennis/player1", "sport/tennis/player1/#"}},
		{"sport/tennis/player1/ranking", []string{"#", "+/tennis/#", "sport/#", "sport/tennis/player1/#"}},
		{"sport", []string{"#", "+", "sport/#"}},
		{"sport/", []string{"#", "+/+", "sport/#", "sport/+"}},
		{"/finance", []string{"#", "+/+", "/+", "/finance"}},
		{"finance", []string{"#", "+", "finance"}},
		{"a//b", []string{"#", "a/#", "a/+/b", "a//b"}},
		{"a/x/b", []string{"#", "a/#", "a/+/b"}},
		{"a", []string{"#", "+", "a/#"}},
		// [MQTT-4.7.2-1]: no wildcard at the first level matches $ topics.
		{"$SYS/monitor/Clients", []string{"$SYS/#", "$SYS/monitor/+"}},
		{"$SYS", []string{"$SYS/#"}},
		{"$other", nil},
	} {
		var got []string
		for _, h := range x.match(c.topic, nil) {
			got = append(got, sessions[h.s])
		}
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("match(%q) = %q, want %q", c.topic, got, want)
		}
	}
}

func TestIndexReplaceAndPrune(t *testing.T) {
	var x index
	s := &session{}
	if x.subscribe(s, "", "a/+/c", subOpts{qos: 0}) {
		t.Fatal("new subscription reported as existing")
	}
	if !x.subscribe(s, "", "a/+/c", subOpts{qos: 2}) {
		t.Fatal("replaced subscription reported as new")
	}
	if h := x.match("a/b/c", nil); len(h) != 1 || h[0].qos != 2 || x.size() != 1 {
		t.Fatalf("after replace: %+v, size %d", h, x.size())
	}
	x.subscribe(s, "g", "a/+/c", subOpts{qos: 1})
	if x.unsubscribe(s, "", "a/b/c") || x.unsubscribe(s, "h", "a/+/c") {
		t.Fatal("unsubscribed what was not subscribed")
	}
	if !x.unsubscribe(s, "", "a/+/c") || !x.unsubscribe(s, "g", "a/+/c") {
		t.Fatal("unsubscribe failed")
	}
	if !x.root.empty() || x.size() != 0 {
		t.Fatalf("trie not pruned: %+v", x.root)
	}
	// Siblings: the single child moves into a map, and everything goes.
	for _, f := range []string{"a/b", "a/c", "a/d/e", "a"} {
		x.subscribe(s, "", f, subOpts{})
	}
	if h := x.match("a/c", nil); len(h) != 1 {
		t.Fatalf("%d hits", len(h))
	}
	for _, f := range []string{"a/c", "a/b", "a", "a/d/e"} {
		if !x.unsubscribe(s, "", f) {
			t.Fatalf("unsubscribe %s", f)
		}
	}
	if !x.root.empty() || x.size() != 0 {
		t.Fatalf("trie not pruned: %+v", x.root)
	}
}

func TestSharedRoundRobin(t *testing.T) {
	var x index
	var members []*session
	for i := range 3 {
		s := &session{serial: uint64(i)}
		s.online.Store(true)
		members = append(members, s)
		x.subscribe(s, "g", "jobs/+", subOpts{qos: 1})
	}
	other := &session{serial: 9}
	x.subscribe(other, "h", "jobs/#", subOpts{})
	count := map[*session]int{}
	for range 6 {
		hits := x.match("jobs/1", nil)
		if len(hits) != 2 {
			t.Fatalf("%d hits, want one per group", len(hits))
		}
		for _, h := range hits {
			count[h.s]++
		}
	}
	for _, s := range members {
		if count[s] != 2 {
			t.Fatalf("round robin uneven: %v", count)
		}
	}
	// An offline member is skipped while others are online.
	members[1].online.Store(false)
	for range 4 {
		for _, h := range x.match("jobs/1", nil) {
			if h.s == members[1] {
				t.Fatal("offline member picked")
			}
		}
	}
}

// TestMatchAllocs: matching a published topic against a warm index
// allocates nothing.
func TestMatchAllocs(t *testing.T) {
	var x index
	for i := range 1000 {
		s := &session{serial: uint64(i)}
		s.online.Store(true)
		x.subscribe(s, "", "kefu/site/dev"+itoa(i)+"/down", subOpts{qos: 1})
		if i%10 == 0 {
			x.subscribe(s, "", "kefu/site/+/down", subOpts{qos: 0})
			x.subscribe(s, "g", "kefu/#", subOpts{qos: 0})
		}
	}
	dst := make([]hit, 0, 256)
	if a := testing.AllocsPerRun(200, func() { dst = x.match("kefu/site/dev42/down", dst[:0]) }); a != 0 {
		t.Fatalf("match: %v allocs", a)
	}
	if len(dst) != 1+100+1 {
		t.Fatalf("%d hits", len(dst))
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestRetainedStore(t *testing.T) {
	var r retainedStore
	msg := func(topic, payload string) *Message {
		return &Message{Topic: topic, Payload: []byte(payload), Retain: true}
	}
	for _, m := range []*Message{msg("a/b", "1"), msg("a/c", "2"), msg("a", "3"), msg("$SYS/x", "4"), msg("b/c/d", "5")} {
		if d, ok := r.set(m, 100); d != 1 || !ok {
			t.Fatalf("set %s: %d %v", m.Topic, d, ok)
		}
	}
	if d, _ := r.set(msg("a/b", "1b"), 100); d != 0 || r.size() != 5 {
		t.Fatalf("replace changed the count: %d, size %d", d, r.size())
	}
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{"a/b", []string{"1b"}},
		{"a/+", []string{"1b", "2"}},
		{"a/#", []string{"1b", "2", "3"}},
		{"#", []string{"1b", "2", "3", "5"}},
		{"+", []string{"3"}},
		{"+/+", []string{"1b", "2"}},
		{"+/c/#", []string{"2", "5"}}, // "a/c/#" matches "a/c" too
		{"$SYS/#", []string{"4"}},
		{"$SYS/+", []string{"4"}},
		{"c", nil},
	} {
		var got []string
		for _, m := range r.match(c.filter, nil) {
			got = append(got, string(m.Payload))
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("match(%q) = %q, want %q", c.filter, got, c.want)
		}
	}
	// Delete with an empty payload [MQTT-3.3.1-6]; deleting twice is fine.
	if d, ok := r.set(msg("a/b", ""), 100); d != -1 || !ok {
		t.Fatalf("delete: %d %v", d, ok)
	}
	if d, ok := r.set(msg("a/b", ""), 100); d != 0 || !ok {
		t.Fatalf("delete again: %d %v", d, ok)
	}
	if d, ok := r.set(msg("x/y", ""), 100); d != 0 || !ok || r.size() != 4 {
		t.Fatalf("delete of nothing: %d %v size %d", d, ok, r.size())
	}
	// The limit stops new topics, not replacements.
	if _, ok := r.set(msg("new", "n"), 4); ok {
		t.Fatal("stored beyond the limit")
	}
	if _, ok := r.set(msg("a/c", "2b"), 4); !ok {
		t.Fatal("replacement refused at the limit")
	}
	for _, tp := range []string{"a/c", "a", "$SYS/x", "b/c/d"} {
		r.set(msg(tp, ""), 100)
	}
	if r.size() != 0 || len(r.root.children) != 0 || r.root.one != nil {
		t.Fatalf("not pruned: size %d, %d children", r.size(), len(r.root.children))
	}
}
