package bridge

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/kefu-im/kefu/storage"
)

// Device records, storage table 'b' (storage/doc.go):
//
//	key    'b' | comp(site) | comp(device)
//	value  +------+-----------------------+--------------------+
//	       | 0x01 | comp(conversation)    | uvarint(cursor)    |
//	       +------+-----------------------+--------------------+
//	        version  "" when the device has   last seq forwarded
//	                 no conversation
//
// comp(s) = uvarint(len(s)) | s, as everywhere in storage.

// recordVersion is byte 0 of a record value.
const recordVersion = 1

// errRecord is returned by parseRecord for a value it cannot read.
var errRecord = errors.New("bridge: malformed device record")

func appendRecordKey(dst []byte, site, device string) []byte {
	dst = append(dst, storage.TableBridge)
	dst = storage.AppendComponent(dst, site)
	return storage.AppendComponent(dst, device)
}

// parseRecordKey splits a record key; site and device alias key.
func parseRecordKey(key []byte) (site, device []byte, ok bool) {
	if len(key) == 0 || key[0] != storage.TableBridge {
		return nil, nil, false
	}
	site, rest, ok := storage.ParseComponent(key[1:])
	if !ok || len(site) == 0 {
		return nil, nil, false
	}
	device, rest, ok = storage.ParseComponent(rest)
	if !ok || len(device) == 0 || len(rest) != 0 {
		return nil, nil, false
	}
	return site, device, true
}

func appendRecord(dst []byte, conv string, cursor uint64) []byte {
	dst = append(dst, recordVersion)
	dst = storage.AppendComponent(dst, conv)
	return binary.AppendUvarint(dst, cursor)
}

// parseRecord reads a record value; conv aliases v.
func parseRecord(v []byte) (conv []byte, cursor uint64, err error) {
	if len(v) == 0 || v[0] != recordVersion {
		return nil, 0, errRecord
	}
	conv, rest, ok := storage.ParseComponent(v[1:])
	if !ok || len(conv) > storage.MaxConversationIDLen {
		return nil, 0, errRecord
	}
	cursor, n := binary.Uvarint(rest)
	var min [binary.MaxVarintLen64]byte
	if n <= 0 || n != len(rest) || n != binary.PutUvarint(min[:], cursor) { // minimal: one encoding per value
		return nil, 0, errRecord
	}
	return conv, cursor, nil
}

// writer persists device records on its own goroutine: devices are marked
// dirty under their mutex (a new conversation urgently, a cursor lazily),
// and each round writes the latest state of every dirty device in one
// batch. After a commit it releases the acknowledgements that waited for
// a device's new conversation to be on disk.
type writer struct {
	b      *Bridge
	batch  *storage.Batch
	mu     sync.Mutex
	dirty  []*device
	spare  []*device
	vers   []uint64
	key    []byte
	val    []byte
	urgent chan struct{} // cap 1: write now
	lazy   chan struct{} // cap 1: write within FlushInterval
	stop   chan struct{}
	done   chan struct{}
}

func newWriter(b *Bridge) *writer {
	return &writer{
		b: b, batch: b.opts.Store.NewBatch(),
		urgent: make(chan struct{}, 1), lazy: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// markLocked queues d's record for writing. d.mu must be held.
func (w *writer) markLocked(d *device, urgent bool) {
	if !d.dirty {
		d.dirty = true
		w.mu.Lock()
		w.dirty = append(w.dirty, d)
		w.mu.Unlock()
	}
	ch := w.lazy
	if urgent {
		ch = w.urgent
	}
	select {
	case ch <- struct{}{}:
	default:
	}
}

// retryDelay spaces the rounds after a failed commit.
const retryDelay = 200 * time.Millisecond

func (w *writer) run() {
	defer close(w.done)
	t := time.NewTimer(time.Hour)
	t.Stop()
	armed := false
	for {
		select {
		case <-w.stop:
			w.flush()
			return
		case <-w.urgent:
		case <-w.lazy:
			if !armed {
				armed = true
				t.Reset(w.b.opts.FlushInterval)
			}
			continue
		case <-t.C:
		}
		armed = false
		t.Stop()
		if !w.flush() {
			armed = true
			t.Reset(retryDelay)
		}
	}
}

// flush writes every dirty device and reports whether the commit worked
// (on failure the devices are marked dirty again).
func (w *writer) flush() bool {
	w.mu.Lock()
	list := w.dirty
	w.dirty, w.spare = w.spare[:0], nil
	w.mu.Unlock()
	if len(list) == 0 {
		w.mu.Lock()
		w.spare = list
		w.mu.Unlock()
		return true
	}
	w.vers = w.vers[:0]
	for _, d := range list {
		d.mu.Lock()
		d.dirty = false
		w.key = appendRecordKey(w.key[:0], d.key.site, d.key.device)
		w.val = appendRecord(w.val[:0], d.conv, d.cursor)
		w.vers = append(w.vers, d.convVer)
		d.mu.Unlock()
		if err := w.batch.Put(w.key, w.val); err != nil {
			panic("BUG: bridge record refused: " + err.Error())
		}
	}
	err := w.batch.Commit()
	for i, d := range list {
		d.mu.Lock()
		if err != nil {
			w.markLocked(d, false)
		} else {
			d.durableLocked(w.vers[i])
		}
		d.mu.Unlock()
		list[i] = nil
	}
	w.mu.Lock()
	w.spare = list[:0]
	w.mu.Unlock()
	if err != nil {
		w.b.m.storeErrors.Inc()
		w.b.log.Warn("writing device records failed; retrying", "devices", len(list), "err", err)
		return false
	}
	return true
}

// close writes what is left and stops the goroutine.
func (w *writer) close() {
	close(w.stop)
	<-w.done
	_ = w.batch.Close()
}
