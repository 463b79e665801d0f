package wheel

// Range calls fn for every item in the wheel, registrations still on the
// queue included (they are taken in first). Items stay scheduled. Owner
// goroutine only; fn must not call Advance or Range.
func (w *Wheel[T]) Range(fn func(item T)) {
	w.takeRegistrations()
	for _, slot := range w.slots {
		for _, e := range slot {
			fn(e.item)
		}
	}
}
