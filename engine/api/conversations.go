package api

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/storage"
	gproto "google.golang.org/protobuf/proto"
)

// convView is a conversation record as the API shows it (times in Unix
// milliseconds, 0 = not yet).
type convView struct {
	ID            string     `json:"id"`
	Visitor       string     `json:"visitor"`
	State         string     `json:"state"`
	Agent         string     `json:"agent"`
	Group         string     `json:"group"`
	Tags          []string   `json:"tags"`
	Agents        []string   `json:"agents"`
	LastSeq       uint64     `json:"last_seq"`
	Created       int64      `json:"created"`
	QueuedAt      int64      `json:"queued_at"`
	AssignedAt    int64      `json:"assigned_at"`
	FirstResponse int64      `json:"first_response"`
	ClosedAt      int64      `json:"closed_at"`
	ClosedBy      string     `json:"closed_by"`
	Rating        uint32     `json:"rating"`
	Comment       string     `json:"comment"`
	Reads         []readView `json:"reads"`
	LastTs        int64      `json:"last_ts"`
	LastBody      string     `json:"last_body"`
	LastSender    string     `json:"last_sender"`
}

type readView struct {
	Who string `json:"who"`
	Seq uint64 `json:"seq"`
	Ts  int64  `json:"ts"`
}

func viewConv(m *proto.Conversation) convView {
	v := convView{ID: m.Id, Visitor: m.Visitor, State: m.State, Agent: m.Agent, Group: m.Group,
		Tags: m.Tags, Agents: m.Agents, LastSeq: m.LastSeq, Created: m.Created, QueuedAt: m.QueuedAt,
		AssignedAt: m.AssignedAt, FirstResponse: m.FirstResponse, ClosedAt: m.ClosedAt, ClosedBy: m.ClosedBy,
		Rating: m.Rating, Comment: m.Comment, LastTs: m.LastTs, LastBody: m.LastBody, LastSender: m.LastSender,
		Reads: make([]readView, len(m.Reads))}
	for i, r := range m.Reads {
		v.Reads[i] = readView{Who: r.Who, Seq: r.Seq, Ts: r.Ts}
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if v.Agents == nil {
		v.Agents = []string{}
	}
	return v
}

// loadConv reads a conversation record of site. Another site's
// conversation, a malformed id and a missing record are all not found.
func (a *API) loadConv(site, id string) (*proto.Conversation, error) {
	if storage.ValidConversationID(id) != nil {
		return nil, notFound("conversation")
	}
	b, ok, err := a.st.Conversation(id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("conversation")
	}
	m := new(proto.Conversation)
	if err := gproto.Unmarshal(b, m); err != nil {
		return nil, err
	}
	if m.Site != site {
		return nil, notFound("conversation")
	}
	a.fillLast(m)
	return m, nil
}

// fillLast sets the record's last-message summary from the log (the shard
// does not rewrite the record for every message).
func (a *API) fillLast(m *proto.Conversation) {
	_, _ = a.st.HistoryBefore(m.Id, math.MaxUint64, 1, func(seq uint64, v []byte) error {
		msg := new(proto.Envelope)
		if gproto.Unmarshal(v, msg) != nil {
			return nil
		}
		m.LastSeq, m.LastTs, m.LastSender = seq, msg.Ts, msg.Sender
		m.LastBody = msg.Body
		if len(m.LastBody) > 120 {
			b := []byte(m.LastBody[:120])
			for len(b) > 0 && !utf8.Valid(b) {
				b = b[:len(b)-1]
			}
			m.LastBody = string(b)
		}
		return nil
	})
}

// convFilter is the query of GET /conversations.
type convFilter struct {
	state, agent, group, tag string
}

func (f *convFilter) match(m *proto.Conversation) bool {
	return (f.state == "" || m.State == f.state) && (f.agent == "" || m.Agent == f.agent) &&
		(f.group == "" || m.Group == f.group) && (f.tag == "" || slices.Contains(m.Tags, f.tag))
}

// listConversations walks the site index newest first, filtering records.
// One request examines at most Options.ListScan entries: a page may then
// be short (even empty) with a next cursor to continue from.
func (a *API) listConversations(w http.ResponseWriter, r *http.Request, c *caller) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := convFilter{state: q.Get("state"), agent: q.Get("agent"), group: q.Get("group"), tag: q.Get("tag")}
	switch f.state {
	case "", "queued", "open", "closed", "bot":
	default:
		return badRequest("state must be queued, open, closed or bot")
	}
	var rng storage.IndexRange
	if rng.Since, err = timeParam(r, "since"); err != nil {
		return err
	}
	if rng.Until, err = timeParam(r, "until"); err != nil {
		return err
	}
	var out []convView
	examined := 0
	var werr error
	next, err := a.st.WalkSiteConversations(c.site, cursor, rng, func(_ int64, conv []byte) (bool, error) {
		examined++
		m, err := a.loadConv(c.site, string(conv))
		if err != nil {
			if ae, ok := err.(*apiError); ok && ae.code == CodeNotFound {
				return examined == a.opts.ListScan, nil // indexed, record not committed yet
			}
			werr = err
			return true, nil
		}
		if f.match(m) {
			out = append(out, viewConv(m))
		}
		return len(out) == limit || examined == a.opts.ListScan, nil
	})
	if err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	return writeJSON(w, http.StatusOK, newPage(out, next))
}

func (a *API) getConversation(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, err := a.loadConv(c.site, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewConv(m))
}

// messageView is a stored message.
type messageView struct {
	Seq         uint64 `json:"seq"`
	Sender      string `json:"sender"`
	Kind        string `json:"kind"`
	Body        string `json:"body"`
	ClientMsgID string `json:"client_msg_id,omitempty"`
	Ts          int64  `json:"ts"`
}

var kindNames = map[proto.Kind]string{
	proto.Kind_KIND_UNSPECIFIED: "text", proto.Kind_KIND_TEXT: "text", proto.Kind_KIND_IMAGE: "image",
	proto.Kind_KIND_FILE: "file", proto.Kind_KIND_EVENT: "event",
}

func viewMessage(seq uint64, e *proto.Envelope) messageView {
	k, ok := kindNames[e.Kind]
	if !ok {
		k = strconv.Itoa(int(e.Kind))
	}
	return messageView{Seq: seq, Sender: e.Sender, Kind: k, Body: e.Body, ClientMsgID: e.ClientMsgId, Ts: e.Ts}
}

// listMessages pages through a conversation's log by seq: after=N gives
// the messages after N (oldest first), before=N those before N, and
// neither the newest page; items are always in ascending seq order, and
// next is the seq to pass as the same parameter for the following page.
func (a *API) listMessages(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if _, err := a.loadConv(c.site, id); err != nil {
		return err
	}
	_, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	after, hasAfter, err := uintParam(r, "after")
	if err != nil {
		return err
	}
	before, hasBefore, err := uintParam(r, "before")
	if err != nil {
		return err
	}
	if hasAfter && hasBefore {
		return badRequest("give before or after, not both")
	}
	out := make([]messageView, 0, limit)
	collect := func(seq uint64, v []byte) error {
		e := new(proto.Envelope)
		if err := gproto.Unmarshal(v, e); err != nil {
			return err
		}
		out = append(out, viewMessage(seq, e))
		return nil
	}
	next := ""
	if hasAfter {
		more, err := a.st.History(id, after, limit, collect)
		if err != nil {
			return err
		}
		if more && len(out) > 0 {
			next = strconv.FormatUint(out[len(out)-1].Seq, 10)
		}
	} else {
		if hasBefore && before == 0 {
			return writeJSON(w, http.StatusOK, newPage(out, ""))
		}
		more, err := a.st.HistoryBefore(id, before, limit, collect)
		if err != nil {
			return err
		}
		slices.Reverse(out)
		if more && len(out) > 0 {
			next = strconv.FormatUint(out[0].Seq, 10)
		}
	}
	return writeJSON(w, http.StatusOK, newPage(out, next))
}

type sendReq struct {
	Body        string `json:"body"`
	Kind        string `json:"kind"`
	ClientMsgID string `json:"client_msg_id"`
}

type sendResp struct {
	Conversation string `json:"conversation"`
	Seq          uint64 `json:"seq"`
	Ts           int64  `json:"ts"`
	ClientMsgID  string `json:"client_msg_id,omitempty"`
}

// fileBody is the body of an image or file message.
type fileBody struct {
	URL  string `json:"url"`
	Name string `json:"name"`
	Size int64  `json:"size"`
	Type string `json:"type"`
}

func (a *API) validFileBody(body string) error {
	var fb fileBody
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fb); err != nil {
		return badRequest(`an image or file body is JSON {"url","name","size","type"} from POST /api/v1/uploads`)
	}
	if !strings.HasPrefix(fb.URL, FilesPrefix) || !validFileName(strings.TrimPrefix(fb.URL, FilesPrefix)) {
		return badRequest("url must be a %s... URL from an upload", FilesPrefix)
	}
	if fb.Name == "" || len(fb.Name) > maxUploadName || fb.Size < 0 || !a.types[fb.Type] {
		return badRequest("name (1..%d bytes), size and an allowed type are required", maxUploadName)
	}
	return nil
}

// send stores a message from the calling agent, who joins the
// conversation first when needed (any agent of the site may reply).
func (a *API) send(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	m, err := a.loadConv(c.site, id)
	if err != nil {
		return err
	}
	var req sendReq
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	kind := proto.Kind_KIND_TEXT
	switch req.Kind {
	case "", "text":
	case "image":
		kind = proto.Kind_KIND_IMAGE
	case "file":
		kind = proto.Kind_KIND_FILE
	default:
		return badRequest("kind must be text, image or file")
	}
	switch {
	case req.Body == "":
		return badRequest("body is empty")
	case len(req.Body) > a.opts.MaxBodyBytes:
		return errf(http.StatusRequestEntityTooLarge, CodeTooLarge, "body over %d bytes", a.opts.MaxBodyBytes)
	case !utf8.ValidString(req.Body):
		return badRequest("body is not valid UTF-8")
	case len(req.ClientMsgID) > storage.MaxClientMsgIDLen:
		return badRequest("client_msg_id longer than %d bytes", storage.MaxClientMsgIDLen)
	}
	if kind != proto.Kind_KIND_TEXT {
		if err := a.validFileBody(req.Body); err != nil {
			return err
		}
	}
	if !slices.Contains(m.Agents, c.agent) {
		// Seq MaxUint64: subscribe without replaying anything.
		if _, err := a.call(r.Context(), c, &proto.Envelope{Type: proto.Type_TYPE_JOIN, Conversation: id, Seq: math.MaxUint64}); err != nil {
			return err
		}
	}
	rep, err := a.call(r.Context(), c, &proto.Envelope{Type: proto.Type_TYPE_SEND, Conversation: id, Kind: kind,
		Body: req.Body, ClientMsgId: req.ClientMsgID})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sendResp{Conversation: id, Seq: rep.GetSeq(), Ts: rep.GetTs(), ClientMsgID: rep.GetClientMsgId()})
}

type actionResp struct {
	Conversation string `json:"conversation"`
}

// action runs CLAIM, CLOSE or TRANSFER on a conversation of the site.
func (a *API) action(w http.ResponseWriter, r *http.Request, c *caller, env *proto.Envelope) error {
	id := r.PathValue("id")
	if _, err := a.loadConv(c.site, id); err != nil {
		return err
	}
	env.Conversation = id
	rep, err := a.call(r.Context(), c, env)
	if err != nil {
		return err
	}
	conv := rep.GetConversation()
	if conv == "" {
		conv = id
	}
	return writeJSON(w, http.StatusOK, actionResp{Conversation: conv})
}

func (a *API) claim(w http.ResponseWriter, r *http.Request, c *caller) error {
	return a.action(w, r, c, &proto.Envelope{Type: proto.Type_TYPE_CLAIM})
}

func (a *API) closeConv(w http.ResponseWriter, r *http.Request, c *caller) error {
	return a.action(w, r, c, &proto.Envelope{Type: proto.Type_TYPE_CLOSE})
}

type transferReq struct {
	Agent string `json:"agent"`
	Group string `json:"group"`
}

func (a *API) transfer(w http.ResponseWriter, r *http.Request, c *caller) error {
	if _, err := a.loadConv(c.site, r.PathValue("id")); err != nil {
		return err
	}
	var req transferReq
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if (req.Agent == "") == (req.Group == "") {
		return badRequest("give agent or group (one of them)")
	}
	if req.Agent != "" {
		if _, err := a.acc.GetAgent(c.site, req.Agent); err != nil {
			return asAPIError(err, "agent")
		}
	}
	return a.action(w, r, c, &proto.Envelope{Type: proto.Type_TYPE_TRANSFER, Agent: req.Agent, Group: req.Group})
}

// reopen brings a closed conversation back to the queue (routed again;
// affinity usually gives it back to its last agent).
func (a *API) reopen(w http.ResponseWriter, r *http.Request, c *caller) error {
	return a.action(w, r, c, &proto.Envelope{Type: proto.Type_TYPE_OPEN})
}
