package routing

import "testing"

// byteChooser takes the harness's decisions from fuzz input.
type byteChooser struct {
	b []byte
	i int
}

func (c *byteChooser) intn(n int) int {
	if c.i >= len(c.b) {
		return 0
	}
	v := int(c.b[c.i])
	c.i++
	if n > 256 && c.i < len(c.b) {
		v = v<<8 | int(c.b[c.i])
		c.i++
	}
	return v % n
}

func (c *byteChooser) done() bool { return c.i >= len(c.b) }

// FuzzOps lets the fuzzer choose the operations of the property test:
// every sequence must keep the Router consistent with the model and its
// own invariants, and end empty once everything is closed.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("route route close tick transfer claim"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 4096 {
			return
		}
		ch := &byteChooser{b: in}
		h, err := newHarness(ch)
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; !ch.done(); step++ {
			if err := h.step(); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
		if err := h.drainAll(); err != nil {
			t.Fatal(err)
		}
	})
}
