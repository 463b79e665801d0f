package storage

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Conversation indexes (see the package doc for the key layout): the
// conversations of a site, and of one visitor of a site, newest first.
// Entries carry no value; the key says everything.
const (
	// TableSiteIndex: 'x' | comp(site) | created u64 BE | comp(conv) → empty.
	TableSiteIndex byte = 'x'
	// TableVisitorIndex: 'v' | comp(site) | comp(visitor) | created u64 BE |
	// comp(conv) → empty.
	TableVisitorIndex byte = 'v'
)

// Limits of the indexes.
const (
	// MaxIndexIDLen is the longest site or visitor id in an index key, in
	// bytes (the ids of package internal/sites are at most 128 bytes).
	MaxIndexIDLen = 128
	// MaxIndexLimit caps the page size of SiteConversations and
	// VisitorConversations.
	MaxIndexLimit = 1000
)

// ErrIndexID is returned when a site or visitor id given to an index
// function is empty or longer than MaxIndexIDLen bytes.
var ErrIndexID = errors.New("storage: index site and visitor ids must be 1..128 bytes")

// ErrCreated is returned by PutConversationIndex for a negative creation
// time.
var ErrCreated = errors.New("storage: conversation creation time must be >= 0")

// ErrCursor is returned for an index cursor this package did not issue.
var ErrCursor = errors.New("storage: malformed index cursor")

func validIndexID(id string) error {
	if len(id) == 0 || len(id) > MaxIndexIDLen {
		return ErrIndexID
	}
	return nil
}

// AppendSiteIndexPrefix appends 'x' | comp(site): the range of one site's
// index entries.
func AppendSiteIndexPrefix(dst []byte, site string) []byte {
	dst = append(dst, TableSiteIndex)
	return AppendComponent(dst, site)
}

// AppendVisitorIndexPrefix appends 'v' | comp(site) | comp(visitor): the
// range of one visitor's index entries.
func AppendVisitorIndexPrefix(dst []byte, site, visitor string) []byte {
	dst = append(dst, TableVisitorIndex)
	dst = AppendComponent(dst, site)
	return AppendComponent(dst, visitor)
}

// appendIndexSuffix appends created u64 BE | comp(conv): what follows the
// prefix in both indexes, and the bytes of a cursor.
func appendIndexSuffix(dst []byte, created int64, conv string) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(created))
	return AppendComponent(dst, conv)
}

// parseIndexSuffix is the inverse of appendIndexSuffix; conv aliases src.
func parseIndexSuffix(src []byte) (created int64, conv []byte, ok bool) {
	if len(src) < 8 {
		return 0, nil, false
	}
	c := binary.BigEndian.Uint64(src)
	conv, rest, ok := parseConv(src[8:])
	if !ok || len(rest) != 0 || c > 1<<63-1 {
		return 0, nil, false
	}
	return int64(c), conv, true
}

// PutConversationIndex stages both index entries of a new conversation:
// the site's and the visitor's. created is the conversation's creation
// time in Unix milliseconds. Stage it in the batch that creates the
// conversation record, so that the record and its entries become visible
// together. It stages nothing on error.
func (b *Batch) PutConversationIndex(site, visitor string, created int64, conv string) error {
	if err := validIndexID(site); err != nil {
		return err
	}
	if err := validIndexID(visitor); err != nil {
		return err
	}
	if err := ValidConversationID(conv); err != nil {
		return err
	}
	if created < 0 {
		return ErrCreated
	}
	// Longest keys: 1+2+128+8+1+64 (site) and 1+2+128+2+128+8+1+64 (visitor).
	var buf [2*(1+2+MaxIndexIDLen) + 2 + MaxIndexIDLen + 2*(8+1+MaxConversationIDLen)]byte
	k := AppendSiteIndexPrefix(buf[:0], site)
	k = appendIndexSuffix(k, created, conv)
	v := AppendVisitorIndexPrefix(k[len(k):], site, visitor)
	v = appendIndexSuffix(v, created, conv)
	// Two Sets: if the second failed the first would stay staged, but
	// pebble.Batch.Set fails only on a closed or read-only batch, for
	// which both fail alike.
	if err := b.pb.Set(k, nil, nil); err != nil {
		return err
	}
	return b.pb.Set(v, nil, nil)
}

// IndexRange bounds a walk of an index by creation time, in Unix
// milliseconds: Since is inclusive, Until exclusive; 0 means unbounded.
type IndexRange struct {
	Since int64
	Until int64
}

// WalkSiteConversations calls fn for the site's conversations newest
// first (by creation time, then by id descending), starting after cursor
// ("" = the newest) within r. fn returns stop=true to end the walk after
// the entry it was given; next is then the cursor of that entry when older
// entries remain in r, "" when the walk reached the end. An error from fn
// ends the walk and is returned. conv is valid only during fn.
func (s *Store) WalkSiteConversations(site, cursor string, r IndexRange,
	fn func(created int64, conv []byte) (stop bool, err error)) (next string, err error) {
	if err := validIndexID(site); err != nil {
		return "", err
	}
	return s.walkIndex(AppendSiteIndexPrefix(nil, site), cursor, r, fn)
}

// WalkVisitorConversations is WalkSiteConversations over one visitor's
// conversations.
func (s *Store) WalkVisitorConversations(site, visitor, cursor string, r IndexRange,
	fn func(created int64, conv []byte) (stop bool, err error)) (next string, err error) {
	if err := validIndexID(site); err != nil {
		return "", err
	}
	if err := validIndexID(visitor); err != nil {
		return "", err
	}
	return s.walkIndex(AppendVisitorIndexPrefix(nil, site, visitor), cursor, r, fn)
}

// SiteConversations returns up to limit conversation ids of the site,
// newest first, starting after cursor ("" = the newest), and the cursor of
// the next page ("" when this page is the last). limit must be > 0
// (ErrLimit) and is capped at MaxIndexLimit.
func (s *Store) SiteConversations(site, cursor string, limit int) (convs []string, next string, err error) {
	if err := validIndexID(site); err != nil {
		return nil, "", err
	}
	return s.pageIndex(AppendSiteIndexPrefix(nil, site), cursor, limit)
}

// VisitorConversations is SiteConversations for one visitor of the site.
func (s *Store) VisitorConversations(site, visitor, cursor string, limit int) (convs []string, next string, err error) {
	if err := validIndexID(site); err != nil {
		return nil, "", err
	}
	if err := validIndexID(visitor); err != nil {
		return nil, "", err
	}
	return s.pageIndex(AppendVisitorIndexPrefix(nil, site, visitor), cursor, limit)
}

func (s *Store) pageIndex(prefix []byte, cursor string, limit int) ([]string, string, error) {
	if limit <= 0 {
		return nil, "", ErrLimit
	}
	limit = min(limit, MaxIndexLimit)
	convs := make([]string, 0, min(limit, 64))
	next, err := s.walkIndex(prefix, cursor, IndexRange{}, func(_ int64, conv []byte) (bool, error) {
		convs = append(convs, string(conv))
		return len(convs) == limit, nil
	})
	if err != nil {
		return nil, "", err
	}
	return convs, next, nil
}

// walkIndex walks the keys under prefix backwards (newest first).
func (s *Store) walkIndex(prefix []byte, cursor string, r IndexRange,
	fn func(created int64, conv []byte) (bool, error)) (next string, err error) {
	if r.Since < 0 || r.Until < 0 {
		return "", fmt.Errorf("%w: negative time bound", ErrCreated)
	}
	lower := prefix
	if r.Since > 0 {
		lower = binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), uint64(r.Since))
	}
	upper, ok := appendPrefixEnd(nil, prefix)
	if !ok {
		panic("BUG: storage: index prefix without an end")
	}
	if r.Until > 0 {
		upper = binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), uint64(r.Until))
	}
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			return "", ErrCursor
		}
		if _, _, ok := parseIndexSuffix(raw); !ok {
			return "", ErrCursor
		}
		if after := append(append([]byte(nil), prefix...), raw...); string(after) < string(upper) {
			upper = after // exclusive: strictly older than the cursor entry
		}
	}
	if err := s.enter(); err != nil {
		return "", err
	}
	defer s.exit()
	start := s.m.now()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := it.Close(); err == nil {
			err = cerr
		}
	}()
	for valid := it.Last(); valid; valid = it.Prev() {
		key := it.Key()
		created, conv, ok := parseIndexSuffix(key[len(prefix):])
		if !ok {
			return "", fmt.Errorf("%w: index key %x", ErrCorrupt, key)
		}
		stop, err := fn(created, conv)
		if err != nil {
			return "", err
		}
		if stop {
			cur := base64.RawURLEncoding.EncodeToString(key[len(prefix):])
			if it.Prev() {
				next = cur
			}
			break
		}
	}
	if err := it.Error(); err != nil {
		return "", err
	}
	s.m.readDone(readScan, start)
	return next, nil
}

// IndexCursor returns the cursor of the index entry (created, conv): a
// walk given it continues with the entries older than that one. It lets a
// caller that stops inside an entry's work (a search in its messages)
// resume after it.
func IndexCursor(created int64, conv []byte) string {
	var buf [8 + 1 + MaxConversationIDLen]byte
	b := binary.BigEndian.AppendUint64(buf[:0], uint64(created))
	b = binary.AppendUvarint(b, uint64(len(conv)))
	return base64.RawURLEncoding.EncodeToString(append(b, conv...))
}
