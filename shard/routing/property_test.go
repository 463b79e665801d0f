package routing

import (
	"math/rand/v2"
	"testing"
)

type randChooser struct{ r *rand.Rand }

func (c randChooser) intn(n int) int { return c.r.IntN(n) }
func (c randChooser) done() bool     { return false }

// TestProperty runs random sequences of arrivals, closes, status and
// capacity changes, transfers, claims, agent and group changes and ticks,
// and after every step checks the Router against the model: every event
// obeys the rules of its level (affinity when possible, lowest weighted
// load, FIFO drain), no agent goes over capacity, no conversation is
// assigned twice or lost, positions are told, the grace is honoured.
func TestProperty(t *testing.T) {
	steps := 4000
	if testing.Short() {
		steps = 1000
	}
	for seed := range uint64(6) {
		h, err := newHarness(randChooser{rand.New(rand.NewPCG(seed, 0x5eed))})
		if err != nil {
			t.Fatal(err)
		}
		for i := range steps {
			if err := h.step(); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, i, err)
			}
		}
		if err := h.drainAll(); err != nil {
			t.Fatalf("seed %d drain: %v", seed, err)
		}
		t.Logf("seed %d: %v", seed, h.stats)
	}
}
