package accounts

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/storage"
)

// MaxWebhooks is the most webhook endpoints one site may have.
const MaxWebhooks = 16

// Webhook is the stored configuration of one webhook endpoint of a site.
// The delivery machinery (engine/webhook.Outbox) keeps endpoints in memory
// only; these records are what it is loaded from at start-up and after
// each change (see Endpoint).
type Webhook struct {
	ID     string              `json:"id"`
	URL    string              `json:"url"`
	Secret string              `json:"secret"`
	Events []webhook.EventType `json:"events"`
	// Created is when the endpoint was added.
	Created time.Time `json:"created"`
}

// Endpoint converts w into the outbox's form.
func (w *Webhook) Endpoint() webhook.Endpoint {
	return webhook.Endpoint{ID: w.ID, URL: w.URL, Secret: w.Secret, Events: slices.Clone(w.Events)}
}

// WebhookSpec describes a new endpoint.
type WebhookSpec struct {
	URL    string
	Events []webhook.EventType
	// Secret signs deliveries. Empty: 32 random bytes, base64url, which
	// CreateWebhook returns in the record (the only time an API shows it
	// unless asked again).
	Secret string
}

// MaxWebhookURLLen bounds an endpoint URL.
const MaxWebhookURLLen = 2048

// CreateWebhook adds an endpoint to site (ErrTooMany past MaxWebhooks).
// The URL, secret and events are checked as webhook.Endpoint.Validate
// does; an invalid one is ErrInvalid wrapping the webhook error.
func (a *Accounts) CreateWebhook(site string, spec WebhookSpec) (Webhook, error) {
	if err := validSite(site); err != nil {
		return Webhook{}, err
	}
	if len(site) > webhook.MaxSiteLen {
		return Webhook{}, fmt.Errorf("%w: webhooks need a site id of at most %d bytes", ErrInvalid, webhook.MaxSiteLen)
	}
	id, err := randomID("wh")
	if err != nil {
		return Webhook{}, err
	}
	if spec.Secret == "" {
		var raw [32]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return Webhook{}, err
		}
		spec.Secret = base64.RawURLEncoding.EncodeToString(raw[:])
	}
	w := Webhook{ID: id, URL: spec.URL, Secret: spec.Secret, Events: slices.Clone(spec.Events), Created: a.now().UTC()}
	if len(w.URL) > MaxWebhookURLLen {
		return Webhook{}, fmt.Errorf("%w: url longer than %d bytes", ErrInvalid, MaxWebhookURLLen)
	}
	if err := validText("secret", w.Secret, 256); err != nil {
		return Webhook{}, err
	}
	for i, e := range w.Events {
		if slices.Contains(w.Events[:i], e) {
			return Webhook{}, fmt.Errorf("%w: event %q given twice", ErrInvalid, e)
		}
	}
	ep := w.Endpoint()
	if err := ep.Validate(); err != nil {
		return Webhook{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.c.site(site); !ok {
		return Webhook{}, ErrNotFound
	}
	list, err := a.Webhooks(site)
	if err != nil {
		return Webhook{}, err
	}
	if len(list) >= MaxWebhooks {
		return Webhook{}, fmt.Errorf("%w: at most %d webhook endpoints", ErrTooMany, MaxWebhooks)
	}
	if err := a.write(op{appendKey(nil, site, kindWebhook, id), &w}); err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// Webhooks returns every endpoint of site, in id order (at most
// MaxWebhooks).
func (a *Accounts) Webhooks(site string) ([]Webhook, error) {
	if err := validSite(site); err != nil {
		return nil, err
	}
	var out []Webhook
	err := a.st.ScanPrefix(appendKindPrefix(nil, site, kindWebhook), func(_, val []byte) error {
		var w Webhook
		if err := jsonUnmarshal(val, &w); err != nil {
			return err
		}
		out = append(out, w)
		return nil
	})
	return out, err
}

// DeleteWebhook removes an endpoint of site; ErrNotFound if there is none.
func (a *Accounts) DeleteWebhook(site, id string) error {
	if err := validSite(site); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	key := appendKey(nil, site, kindWebhook, id)
	if _, ok, err := a.st.Get(key); err != nil {
		return err
	} else if !ok {
		return ErrNotFound
	}
	return a.write(op{key, nil})
}

// AllWebhooks calls fn once per site that has webhook endpoints, with
// them, in site order: what an outbox is loaded from at start-up. It scans
// table 's' once.
func (a *Accounts) AllWebhooks(fn func(site string, hooks []Webhook) error) error {
	var cur string
	var hooks []Webhook
	err := a.st.ScanPrefix([]byte{storage.TableSites}, func(key, val []byte) error {
		site, rest, ok := storage.ParseComponent(key[1:])
		if !ok || len(rest) == 0 || rest[0] != kindWebhook {
			return nil
		}
		var w Webhook
		if err := jsonUnmarshal(val, &w); err != nil {
			return err
		}
		if string(site) != cur && len(hooks) > 0 {
			if err := fn(cur, hooks); err != nil {
				return err
			}
			hooks = nil
		}
		cur = string(site)
		hooks = append(hooks, w)
		return nil
	})
	if err == nil && len(hooks) > 0 {
		err = fn(cur, hooks)
	}
	return err
}
