package routing

import (
	"strconv"
	"testing"
)

func TestAffinityLRU(t *testing.T) {
	ag := map[string]*agent{}
	for _, id := range []string{"a1", "a2", "a3", "a4", "a5", "a9"} {
		ag[id] = &agent{id: id}
	}
	l := newAffinity(3)
	l.put("v1", ag["a1"])
	l.put("v2", ag["a2"])
	l.put("v3", ag["a3"])
	l.put("v1", ag["a9"]) // v1 most recent; v2 least
	l.put("v4", ag["a4"]) // evicts v2
	if l.get("v2") != nil {
		t.Error("least recently routed visitor not evicted")
	}
	for v, want := range map[string]string{"v1": "a9", "v3": "a3", "v4": "a4"} {
		if got := l.get(v); got == nil || got.id != want {
			t.Errorf("get(%s) = %v, want %q", v, got, want)
		}
	}
	l.put("v5", ag["a5"]) // evicts v3 (get does not refresh)
	if l.get("v3") != nil {
		t.Error("v3 should have been evicted")
	}
	ag["a5"].removed = true
	if l.get("v5") != nil {
		t.Error("a removed agent returned")
	}
	if l.len() != 3 || len(l.nodes) != 3 {
		t.Errorf("len %d nodes %d, want 3", l.len(), len(l.nodes))
	}
}

func TestAffinityNoAllocWhenFull(t *testing.T) {
	l := newAffinity(64)
	vs := make([]string, 256)
	for i := range vs {
		vs[i] = "visitor-" + strconv.Itoa(i)
	}
	a, b := &agent{id: "a"}, &agent{id: "b"}
	for _, v := range vs {
		l.put(v, a)
	}
	i := 0
	if n := testing.AllocsPerRun(10000, func() {
		l.put(vs[i%len(vs)], b)
		i++
	}); n != 0 {
		t.Errorf("%v allocations per put, want 0", n)
	}
}
