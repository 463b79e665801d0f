package accounts

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestTouchVisitorsBatch(t *testing.T) {
	e := newEnv(t)
	t0 := e.clk.Now()
	n, err := e.a.TouchVisitors([]VisitorTouch{
		{Site: "shop", ID: "v1", Client: "c1", At: t0},
		{Site: "shop", ID: "v1", Client: "c2", Tags: []string{"x"}, At: t0.Add(time.Second)}, // same visitor, same batch
		{Site: "shop", ID: "bad id", At: t0},
		{Site: "shop", ID: "v2", At: t0},
	})
	if n != 2 || !errors.Is(err, ErrInvalid) {
		t.Fatalf("TouchVisitors = %d, %v", n, err)
	}
	v, _ := e.a.GetVisitor("shop", "v1")
	if v.Client != "c2" || !slices.Equal(v.Tags, []string{"x"}) || !v.FirstSeen.Equal(t0) || !v.LastSeen.Equal(t0.Add(time.Second)) {
		t.Fatalf("v1 %+v", v)
	}
	// Nothing changed within the interval: nothing written.
	if n, err := e.a.TouchVisitors([]VisitorTouch{{Site: "shop", ID: "v2", At: t0.Add(time.Second)}}); n != 0 || err != nil {
		t.Fatalf("unchanged touch wrote %d, %v", n, err)
	}
}

func TestVisitorToucher(t *testing.T) {
	e := newEnv(t)
	tc := e.a.NewVisitorToucher(4, 10*time.Millisecond, nil)
	tags := []string{"vip"}
	if !tc.Touch("shop", "v1", "kefu.js", tags, e.clk.Now()) {
		t.Fatal("touch refused")
	}
	tags[0] = "changed" // the toucher copied the slice
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, err := e.a.GetVisitor("shop", "v1"); err == nil {
			if !slices.Equal(v.Tags, []string{"vip"}) {
				t.Fatalf("tags %v", v.Tags)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("touch never applied")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A full queue drops without blocking; Close applies what is queued.
	start := time.Now()
	accepted := 0
	for i := range 100 {
		if tc.Touch("shop", "w"+string(rune('a'+i%26)), "", nil, e.clk.Now()) {
			accepted++
		}
	}
	if time.Since(start) > time.Second || accepted == 0 {
		t.Fatalf("accepted %d in %v", accepted, time.Since(start))
	}
	tc.Close()
	if tc.Touch("shop", "late", "", nil, e.clk.Now()) {
		t.Fatal("touch after Close accepted")
	}
	if tc.Dropped() == 0 {
		t.Fatal("nothing counted as dropped")
	}
	if _, err := e.a.GetVisitor("shop", "wa"); err != nil {
		t.Fatalf("queued touch lost at Close: %v", err)
	}
}
