package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/shard/routing"
	"github.com/kefu-im/kefu/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// visitorTouch is a visitor profile update, written off the shard workers.
type visitorTouch struct {
	site, id string
	tags     []string
	at       time.Time
}

// csHooks are the customer-service hooks the shard workers call: webhook
// events enqueued in the commit's batch, visitor profiles updated in the
// background.
type csHooks struct {
	log      *slog.Logger
	outbox   *webhook.Outbox
	accounts *accounts.Accounts
	visitors chan visitorTouch
	dropped  prometheus.Counter
}

func newCSHooks(log *slog.Logger, reg prometheus.Registerer, acc *accounts.Accounts, ob *webhook.Outbox) *csHooks {
	h := &csHooks{log: log, outbox: ob, accounts: acc, visitors: make(chan visitorTouch, 4096),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_visitor_profile_updates_dropped_total",
			Help: "Visitor profile updates dropped because the writer was behind.",
		})}
	reg.MustRegister(h.dropped)
	return h
}

// onEvent is shard.Options.OnEvent: on the worker goroutine, never blocks.
func (h *csHooks) onEvent(b *storage.Batch, kind string, conv *proto.Conversation, msg *proto.Envelope) {
	if kind == "conversation.created" {
		select {
		case h.visitors <- visitorTouch{site: conv.Site, id: conv.Visitor, tags: conv.Tags, at: time.UnixMilli(conv.Created)}:
		default:
			h.dropped.Inc()
		}
	}
	if len(h.outbox.Endpoints(conv.Site)) == 0 {
		return
	}
	data := map[string]any{"conversation": conversationJSON(conv)}
	if msg != nil {
		data["message"] = map[string]any{
			"seq": msg.Seq, "sender": msg.Sender, "kind": proto.KindName(msg.Kind), "body": msg.Body,
			"client_msg_id": msg.ClientMsgId, "ts": msg.Ts,
		}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		h.log.Error("webhook payload", "err", err)
		return
	}
	// A deterministic id: a retried commit enqueues the same event id.
	id := fmt.Sprintf("evt_%s_%s_%d", conv.Id, kind, conv.LastSeq)
	if msg != nil {
		id = fmt.Sprintf("evt_%s_%d", conv.Id, msg.Seq)
	} else if kind == "conversation.assigned" {
		id = fmt.Sprintf("evt_%s_assigned_%d", conv.Id, conv.AssignedAt)
	}
	if len(id) > webhook.MaxEventIDLen {
		id = ""
	}
	if _, err := h.outbox.Enqueue(b, webhook.Event{ID: id, Type: webhook.EventType(kind), Site: conv.Site, Data: json.RawMessage(raw)}); err != nil {
		h.log.Warn("webhook enqueue", "site", conv.Site, "kind", kind, "err", err)
	}
}

// conversationJSON is the conversation as webhooks show it.
func conversationJSON(c *proto.Conversation) map[string]any {
	return map[string]any{
		"id": c.Id, "site": c.Site, "visitor": c.Visitor, "state": c.State, "agent": c.Agent,
		"group": c.Group, "tags": c.Tags, "created": c.Created, "assigned_at": c.AssignedAt,
		"closed_at": c.ClosedAt, "closed_by": c.ClosedBy, "rating": c.Rating, "comment": c.Comment,
	}
}

// runVisitors writes visitor profiles, and purges expired login sessions
// hourly, until ctx ends.
func (h *csHooks) runVisitors(ctx context.Context) {
	purge := time.NewTicker(time.Hour)
	defer purge.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-purge.C:
			if n, err := h.accounts.PurgeSessions(); err != nil {
				h.log.Warn("purging sessions", "err", err)
			} else if n > 0 {
				h.log.Info("expired sessions purged", "count", n)
			}
		case v := <-h.visitors:
			if err := h.accounts.TouchVisitor(v.site, v.id, "", v.tags, v.at); err != nil {
				h.log.Debug("visitor profile", "site", v.site, "err", err)
			}
		}
	}
}

// loadDirectory gives the desk every site, group and agent the directory
// knows, then restores the routing of open and queued conversations.
func loadDirectory(ctx context.Context, acc *accounts.Accounts, desk *shard.Desk, log *slog.Logger) error {
	for _, site := range acc.Sites() {
		if err := desk.SetSite(ctx, routing.Site{ID: site.ID, MaxQueue: site.Settings.MaxQueue}); err != nil {
			return fmt.Errorf("site %s: %w", site.ID, err)
		}
		for cursor := ""; ; {
			groups, next, err := acc.ListGroups(site.ID, cursor, 100)
			if err != nil {
				return err
			}
			for _, g := range groups {
				if err := desk.SetGroup(ctx, site.ID, routing.Group{ID: g.ID, Tags: g.Tags}); err != nil {
					log.Warn("routing group", "site", site.ID, "group", g.ID, "err", err)
				}
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		for cursor := ""; ; {
			agents, next, err := acc.ListAgents(site.ID, cursor, 100)
			if err != nil {
				return err
			}
			for _, a := range agents {
				ra := routing.Agent{ID: a.ID, Site: site.ID, Groups: a.Groups, Capacity: a.Capacity, Weight: float64(max(a.Weight, 1))}
				if err := desk.SetAgent(ctx, ra); err != nil {
					log.Warn("routing agent", "site", site.ID, "agent", a.ID, "err", err)
				}
			}
			if cursor = next; cursor == "" {
				break
			}
		}
	}
	n, err := desk.Restore(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info("routing restored", "conversations", n)
	}
	return nil
}
