package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/shard/routing"
	"github.com/kefu-im/kefu/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// Conversations runs conversation requests as a participant would:
// *shard.Router implements it.
type Conversations interface {
	// Call submits env as who and waits for the reply carrying env.Id.
	Call(ctx context.Context, who *shard.Identity, env *proto.Envelope) (*proto.Envelope, error)
}

// Desk is the routing owner: *shard.Desk implements it.
type Desk interface {
	SetSite(ctx context.Context, s routing.Site) error
	SetGroup(ctx context.Context, site string, g routing.Group) error
	RemoveGroup(ctx context.Context, site, id string) error
	SetAgent(ctx context.Context, a routing.Agent) error
	RemoveAgent(ctx context.Context, site, id string) error
	// Query runs fn on the desk goroutine; fn only reads.
	Query(ctx context.Context, fn func(r *routing.Router)) error
}

// Defaults of Options fields.
const (
	DefaultUploadMaxBytes            = 10 << 20
	DefaultMaxBodyBytes              = 16384
	DefaultCallTimeout               = 10 * time.Second
	DefaultListScan                  = 5000
	DefaultSearchConversations       = 2000
	DefaultSearchMessages            = 200000
	DefaultStatsConversations        = 10000
	DefaultQueueScan                 = 1000
	DefaultPageLimit                 = 50
	MaxPageLimit                     = 200
	maxJSONBody                      = 64 << 10
	hardMaxUploadBytes         int64 = 1 << 30
)

// UploadTypes are the content types uploads may have, and the only ones
// Options.UploadTypes may list. Each has one file extension.
var uploadTypes = map[string]string{
	"image/png":       "png",
	"image/jpeg":      "jpg",
	"image/gif":       "gif",
	"image/webp":      "webp",
	"application/pdf": "pdf",
	"text/plain":      "txt",
}

// DefaultUploadTypes returns the default allow-list: every supported type.
func DefaultUploadTypes() []string {
	return []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}
}

// Options configures the API. Accounts, Store, Conversations, Desk and
// UploadDir are required; every other field has a usable zero value.
type Options struct {
	// Accounts holds sites, agents, sessions, groups, canned replies,
	// visitors and webhook configurations. Required.
	Accounts *accounts.Accounts
	// Store holds conversations and messages. Required.
	Store *storage.Store
	// Conversations runs claim, transfer, close, send and status as the
	// calling agent (the shard router). Required.
	Conversations Conversations
	// Desk is the routing state: agents, groups, queues. Required.
	Desk Desk
	// Outbox delivers webhooks. Zero value (nil): endpoint configurations
	// are still stored, but dead letters answer 503 unavailable.
	Outbox *webhook.Outbox
	// Hello authenticates visitor uploads (Authorization: Visitor ...)
	// exactly as a HELLO: the server's HELLO authenticator. Zero value:
	// Accounts.Hello(nil), which knows only the sites in Accounts.
	Hello accounts.HelloAuthenticator
	// OriginAllowed decides whether a browser Origin may upload for a
	// site (engine.Engine.OriginAllowed). Zero value: any origin.
	OriginAllowed func(site, origin string) bool
	// UploadDir keeps uploaded files (content-addressed). Required
	// (the server passes <data_dir>/uploads).
	UploadDir string
	// UploadMaxBytes is the largest upload. Zero value:
	// DefaultUploadMaxBytes (10 MiB).
	UploadMaxBytes int64
	// UploadTypes is the allow-list of upload content types, a subset of
	// DefaultUploadTypes(). Zero value: DefaultUploadTypes().
	UploadTypes []string
	// MaxBodyBytes is the largest message body an agent may send (the
	// gateway's max_body_bytes). Zero value: DefaultMaxBodyBytes.
	MaxBodyBytes int
	// CallTimeout bounds one conversation request (Conversations.Call,
	// Desk calls). Zero value: DefaultCallTimeout (10s).
	CallTimeout time.Duration
	// ListScan is the most index entries one filtered conversation
	// listing examines before it returns a short page with a cursor.
	// Zero value: DefaultListScan (5,000).
	ListScan int
	// SearchConversations and SearchMessages bound one search request:
	// the conversations and messages it reads before it returns what it
	// found with a cursor. Zero values: DefaultSearchConversations
	// (2,000) and DefaultSearchMessages (200,000).
	SearchConversations int
	SearchMessages      int
	// StatsConversations is the most of today's conversations whose
	// records the median times are computed from (the newest ones).
	// Zero value: DefaultStatsConversations (10,000).
	StatsConversations int
	// QueueScan is the most waiting conversations GET /queue looks at.
	// Zero value: DefaultQueueScan (1,000).
	QueueScan int
	// Logger receives handler failures at Warn. Zero value: discard.
	Logger *slog.Logger
	// Registerer receives kefu_api_* metrics. Zero value: not registered.
	Registerer prometheus.Registerer
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// EnsureDefaults fills zero-valued fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Hello == nil && o.Accounts != nil {
		o.Hello = o.Accounts.Hello(nil)
	}
	if o.UploadMaxBytes == 0 {
		o.UploadMaxBytes = DefaultUploadMaxBytes
	}
	if len(o.UploadTypes) == 0 {
		o.UploadTypes = DefaultUploadTypes()
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.ListScan == 0 {
		o.ListScan = DefaultListScan
	}
	if o.SearchConversations == 0 {
		o.SearchConversations = DefaultSearchConversations
	}
	if o.SearchMessages == 0 {
		o.SearchMessages = DefaultSearchMessages
	}
	if o.StatsConversations == 0 {
		o.StatsConversations = DefaultStatsConversations
	}
	if o.QueueScan == 0 {
		o.QueueScan = DefaultQueueScan
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate reports the first invalid field. Call it after EnsureDefaults.
func (o *Options) Validate() error {
	var errs []error
	if o.Accounts == nil {
		errs = append(errs, errors.New("api: Options.Accounts is required"))
	}
	if o.Store == nil {
		errs = append(errs, errors.New("api: Options.Store is required"))
	}
	if o.Conversations == nil {
		errs = append(errs, errors.New("api: Options.Conversations is required"))
	}
	if o.Desk == nil {
		errs = append(errs, errors.New("api: Options.Desk is required"))
	}
	if o.UploadDir == "" {
		errs = append(errs, errors.New("api: Options.UploadDir is required"))
	}
	if o.UploadMaxBytes < 1 || o.UploadMaxBytes > hardMaxUploadBytes {
		errs = append(errs, fmt.Errorf("api: Options.UploadMaxBytes %d must be 1..%d", o.UploadMaxBytes, hardMaxUploadBytes))
	}
	for i, t := range o.UploadTypes {
		if _, ok := uploadTypes[t]; !ok {
			errs = append(errs, fmt.Errorf("api: upload type %q is not one of %v", t, DefaultUploadTypes()))
		} else if slices.Contains(o.UploadTypes[:i], t) {
			errs = append(errs, fmt.Errorf("api: upload type %q listed twice", t))
		}
	}
	for _, v := range []struct {
		name string
		v    int
	}{{"MaxBodyBytes", o.MaxBodyBytes}, {"ListScan", o.ListScan}, {"SearchConversations", o.SearchConversations},
		{"SearchMessages", o.SearchMessages}, {"StatsConversations", o.StatsConversations}, {"QueueScan", o.QueueScan}} {
		if v.v < 1 {
			errs = append(errs, fmt.Errorf("api: Options.%s %d must be > 0", v.name, v.v))
		}
	}
	if o.CallTimeout < 0 {
		errs = append(errs, fmt.Errorf("api: Options.CallTimeout %v must be > 0", o.CallTimeout))
	}
	return errors.Join(errs...)
}
