package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/storage"
	"google.golang.org/protobuf/encoding/protowire"
	gproto "google.golang.org/protobuf/proto"
)

// MaxQueryLen is the longest search query, in bytes.
const MaxQueryLen = 256

// searchHit is one matching message.
type searchHit struct {
	Conversation string `json:"conversation"`
	messageView
}

type searchResp struct {
	Items []searchHit `json:"items"`
	Next  string      `json:"next"`
	// ScannedConversations and ScannedMessages are what this request read
	// (bounded by the server's search limits).
	ScannedConversations int `json:"scanned_conversations"`
	ScannedMessages      int `json:"scanned_messages"`
}

// searchCursor is where a search resumes: inside conversation Conv before
// seq Before (Conv empty: nothing in progress), then with the site index
// entries older than Entry ("" = from the newest).
type searchCursor struct {
	Conv   string `json:"c,omitempty"`
	Before uint64 `json:"s,omitempty"`
	Entry  string `json:"e,omitempty"`
}

func (c *searchCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSearchCursor(s string) (searchCursor, error) {
	var c searchCursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || (c.Conv != "" && storage.ValidConversationID(c.Conv) != nil) {
		return c, badRequest("invalid cursor")
	}
	return c, nil
}

var errPageFull = errors.New("page full")

// search finds messages of the caller's site whose body contains q,
// case-insensitively: conversations newest first (site index), messages
// newest first within each. One request reads at most
// Options.SearchConversations conversations and Options.SearchMessages
// messages; when a limit is reached it answers what it found with a next
// cursor, so the client can go on. System (event) messages are skipped.
func (a *API) search(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" || len(q) > MaxQueryLen || !utf8.ValidString(q) {
		return badRequest("q must be 1..%d bytes of text", MaxQueryLen)
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	cur, err := decodeSearchCursor(cursor)
	if err != nil {
		return err
	}
	s := searcher{a: a, needle: strings.ToLower(q), limit: limit, msgBudget: a.opts.SearchMessages, lastEntry: cur.Entry}
	resp := searchResp{}
	if cur.Conv != "" {
		// Only a conversation of this site can be resumed.
		if _, err := a.loadConv(c.site, cur.Conv); err != nil {
			return badRequest("invalid cursor")
		}
		resp.ScannedConversations++
		if done, err := s.scan(cur.Conv, cur.Before, cur.Entry); err != nil || done {
			return s.answer(w, &resp, err)
		}
	}
	convBudget := a.opts.SearchConversations - resp.ScannedConversations
	var serr error
	_, err = a.st.WalkSiteConversations(c.site, cur.Entry, storage.IndexRange{}, func(created int64, conv []byte) (bool, error) {
		if convBudget == 0 {
			s.next = searchCursor{Entry: s.lastEntry}
			return true, nil
		}
		convBudget--
		resp.ScannedConversations++
		entry := storage.IndexCursor(created, conv)
		done, err := s.scan(string(conv), 0, entry)
		if err != nil {
			serr = err
			return true, nil
		}
		s.lastEntry = entry
		return done, nil
	})
	if err == nil {
		err = serr
	}
	return s.answer(w, &resp, err)
}

// searcher is the state of one search request.
type searcher struct {
	a         *API
	needle    string // lower-cased query
	limit     int
	msgBudget int
	scanned   int
	hits      []searchHit
	next      searchCursor
	hasNext   bool
	lastEntry string
}

func (s *searcher) answer(w http.ResponseWriter, resp *searchResp, err error) error {
	if err != nil {
		return err
	}
	resp.Items, resp.ScannedMessages = s.hits, s.scanned
	if resp.Items == nil {
		resp.Items = []searchHit{}
	}
	if s.hasNext || s.next != (searchCursor{}) {
		resp.Next = s.next.encode()
	}
	return writeJSON(w, http.StatusOK, resp)
}

// scan searches conv's messages before seq before (0 = from the newest).
// done reports that the request must end here (page full or message
// budget spent), with s.next set to resume.
func (s *searcher) scan(conv string, before uint64, entry string) (done bool, err error) {
	for {
		if s.msgBudget == 0 {
			s.next, s.hasNext = searchCursor{Conv: conv, Before: before, Entry: entry}, true
			return true, nil
		}
		if before == 1 {
			return false, nil // nothing older than seq 1
		}
		chunk := min(s.msgBudget, 1000)
		last := before
		more, err := s.a.st.HistoryBefore(conv, before, chunk, func(seq uint64, v []byte) error {
			s.msgBudget--
			s.scanned++
			last = seq
			kind, body := messageText(v)
			if kind == proto.Kind_KIND_EVENT || !foldContains(body, s.needle) {
				return nil
			}
			e := new(proto.Envelope)
			if err := gproto.Unmarshal(v, e); err != nil {
				return err
			}
			s.hits = append(s.hits, searchHit{Conversation: conv, messageView: viewMessage(seq, e)})
			if len(s.hits) == s.limit {
				return errPageFull
			}
			return nil
		})
		switch {
		case errors.Is(err, errPageFull):
			s.next, s.hasNext = searchCursor{Conv: conv, Before: last, Entry: entry}, true
			return true, nil
		case err != nil:
			return false, err
		case !more:
			return false, nil
		}
		before = last
	}
}

// messageText reads the kind (field 7) and body (field 8) of an encoded
// Envelope without decoding the rest; the body aliases b.
func messageText(b []byte) (proto.Kind, []byte) {
	var kind proto.Kind
	var body []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			break
		}
		b = b[n:]
		switch {
		case num == 7 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return kind, nil
			}
			kind, b = proto.Kind(v), b[m:]
			continue
		case num == 8 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return kind, nil
			}
			body, b = v, b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			break
		}
		b = b[m:]
	}
	return kind, body
}

// foldContains reports whether s contains needle (already lower case),
// ignoring case: byte-wise for ASCII, by lower-casing a copy of s
// otherwise.
func foldContains(s []byte, needle string) bool {
	if !isASCII(s) || !isASCIIString(needle) {
		return strings.Contains(strings.ToLower(string(s)), needle)
	}
	n := len(needle)
outer:
	for i := 0; i+n <= len(s); i++ {
		for j := 0; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				continue outer
			}
		}
		return true
	}
	return false
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
