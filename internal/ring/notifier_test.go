package ring

import (
	"fmt"
	"testing"
	"time"
)

func TestNotifyCoalesces(t *testing.T) {
	n := NewNotifier()
	for range 100 {
		n.Notify() // consumer awake: no channel operation
	}
	if len(n.wake) != 0 {
		t.Fatal("Notify sent a token while the consumer was awake")
	}
	n.sleeping.Store(true) // what Wait does before blocking
	for range 100 {
		n.Notify()
	}
	if len(n.wake) != 1 {
		t.Fatalf("burst left %d tokens, want 1", len(n.wake))
	}
	if n.sleeping.Load() {
		t.Fatal("Notify left the sleeping flag set")
	}
}

func TestWaitReturns(t *testing.T) {
	r := NewMPSC[int](4)
	n := NewNotifier()
	done := make(chan struct{})

	r.Push(1)
	if !n.Wait(done, r.Empty) {
		t.Fatal("Wait with a non-empty ring returned false")
	}
	if n.sleeping.Load() {
		t.Fatal("Wait left the sleeping flag set after finding work")
	}
	r.Pop()

	close(done)
	if n.Wait(done, r.Empty) {
		t.Fatal("Wait with done closed returned true")
	}
}

// TestNoLostWakeup makes the consumer go to sleep right as the producer
// pushes, thousands of times. A lost wake-up leaves the consumer blocked
// until the deadline closes done.
func TestNoLostWakeup(t *testing.T) {
	rounds := 20_000
	if testing.Short() {
		rounds = 2_000
	}
	r := NewMPSC[int](8)
	n := NewNotifier()
	done := make(chan struct{})
	timer := time.AfterFunc(30*time.Second, func() { close(done) })
	defer timer.Stop()
	ack := make(chan struct{}, 1)
	errc := make(chan error, 1)

	go func() {
		for i := range rounds {
			for {
				v, ok := r.Pop()
				if ok {
					if v != i {
						errc <- fmt.Errorf("got %d, want %d", v, i)
						return
					}
					break
				}
				if !n.Wait(done, r.Empty) {
					errc <- fmt.Errorf("lost wake-up in round %d", i)
					return
				}
			}
			ack <- struct{}{}
		}
		errc <- nil
	}()

	for i := range rounds {
		r.Push(i)
		n.Notify()
		select {
		case <-ack:
		case err := <-errc:
			t.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
