package accounts

import (
	"bytes"
	"fmt"

	"github.com/kefu-im/kefu/storage"
)

// pageLimit applies the page size rules shared by every List method:
// negative is invalid, 0 means DefaultListLimit, above MaxListLimit is
// capped.
func pageLimit(limit int) (int, error) {
	switch {
	case limit < 0:
		return 0, fmt.Errorf("%w: limit %d", ErrInvalid, limit)
	case limit == 0:
		return DefaultListLimit, nil
	default:
		return min(limit, MaxListLimit), nil
	}
}

// listKind returns up to limit records of one kind of one site in key
// order, starting after the record whose id component is cursor ("" for
// the first), and the cursor of the next page ("" after the last). decode
// turns one stored value into an item and its cursor (the id component of
// its key). Like ListAgents it scans from the start of the range and skips
// to the cursor, which the small per-site counts of these records allow.
func listKind[T any](a *Accounts, site string, kind byte, cursor string, limit int,
	decode func(val []byte) (T, error)) ([]T, string, error) {
	if err := validSite(site); err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, "", err
	}
	var after []byte
	if cursor != "" {
		after = appendKey(nil, site, kind, cursor)
	}
	prefix := appendKindPrefix(nil, site, kind)
	out := make([]T, 0, min(limit, 64))
	var last []byte
	next := ""
	err = a.st.ScanPrefix(prefix, func(key, val []byte) error {
		if after != nil && bytes.Compare(key, after) <= 0 {
			return nil
		}
		if len(out) == limit {
			id, _, _ := storage.ParseComponent(last[len(prefix):])
			next = string(id)
			return storage.ErrStop
		}
		item, err := decode(val)
		if err != nil {
			return err
		}
		out = append(out, item)
		last = append(last[:0], key...)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}
