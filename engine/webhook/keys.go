package webhook

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/kefu-im/kefu/storage"
)

// Sub-tables of storage.TableOutbox (see the package doc for the layout).
const (
	subPending byte = 'p'
	subDead    byte = 'd'
)

var (
	pendingPrefix = []byte{storage.TableOutbox, subPending}
	deadPrefix    = []byte{storage.TableOutbox, subDead}
)

// appendPendingKey appends 'o' | 'p' | due u64 BE | comp(site) | comp(event
// id) | comp(endpoint id).
func appendPendingKey(dst []byte, due uint64, site, id, endpoint string) []byte {
	dst = append(dst, storage.TableOutbox, subPending)
	dst = binary.BigEndian.AppendUint64(dst, due)
	dst = storage.AppendComponent(dst, site)
	dst = storage.AppendComponent(dst, id)
	return storage.AppendComponent(dst, endpoint)
}

// parsePendingKey splits a pending key; the slices alias key.
func parsePendingKey(key []byte) (due uint64, site, id, endpoint []byte, ok bool) {
	if len(key) < 2+8 || key[0] != storage.TableOutbox || key[1] != subPending {
		return 0, nil, nil, nil, false
	}
	due = binary.BigEndian.Uint64(key[2:10])
	site, id, endpoint, ok = parseComps(key[10:])
	return due, site, id, endpoint, ok
}

// appendDeadPrefix appends 'o' | 'd' | comp(site), the range of one site's
// dead letters.
func appendDeadPrefix(dst []byte, site string) []byte {
	dst = append(dst, storage.TableOutbox, subDead)
	return storage.AppendComponent(dst, site)
}

// appendDeadKey appends 'o' | 'd' | comp(site) | comp(event id) |
// comp(endpoint id).
func appendDeadKey(dst []byte, site, id, endpoint string) []byte {
	dst = appendDeadPrefix(dst, site)
	dst = storage.AppendComponent(dst, id)
	return storage.AppendComponent(dst, endpoint)
}

// parseDeadKey splits a dead-letter key; the slices alias key.
func parseDeadKey(key []byte) (site, id, endpoint []byte, ok bool) {
	if len(key) < 2 || key[0] != storage.TableOutbox || key[1] != subDead {
		return nil, nil, nil, false
	}
	return parseComps(key[2:])
}

// parseComps parses exactly three non-empty components.
func parseComps(src []byte) (a, b, c []byte, ok bool) {
	var rest []byte
	if a, rest, ok = storage.ParseComponent(src); !ok || len(a) == 0 {
		return nil, nil, nil, false
	}
	if b, rest, ok = storage.ParseComponent(rest); !ok || len(b) == 0 {
		return nil, nil, nil, false
	}
	if c, rest, ok = storage.ParseComponent(rest); !ok || len(c) == 0 || len(rest) != 0 {
		return nil, nil, nil, false
	}
	return a, b, c, true
}

// record is the value of a pending or dead-letter key, encoded as JSON (the
// outbox is low-rate; readable values help operators).
type record struct {
	Site     string    `json:"site"`
	ID       string    `json:"id"`
	Endpoint string    `json:"endpoint"`
	Type     EventType `json:"type"`
	// Created is the enqueue time, Unix nanoseconds.
	Created int64 `json:"created"`
	// Attempts counts failed attempts so far.
	Attempts int `json:"attempts"`
	// LastAttempt is the time of the last failed attempt, Unix nanoseconds.
	LastAttempt int64  `json:"last_attempt,omitempty"`
	LastStatus  int    `json:"last_status,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	// Body is the exact JSON document POSTed (signed as is).
	Body json.RawMessage `json:"body"`
}

// decodeRecord decodes and checks a stored record.
func decodeRecord(v []byte) (record, error) {
	var r record
	if err := json.Unmarshal(v, &r); err != nil {
		return record{}, fmt.Errorf("%w: outbox record: %v", storage.ErrCorrupt, err)
	}
	if validSite(r.Site) != nil || validEventID(r.ID) != nil || r.Endpoint == "" || len(r.Body) == 0 {
		return record{}, fmt.Errorf("%w: outbox record fields", storage.ErrCorrupt)
	}
	return r, nil
}

func (r *record) encode() []byte {
	v, err := json.Marshal(r)
	if err != nil {
		panic("BUG: webhook: record does not marshal: " + err.Error())
	}
	return v
}
