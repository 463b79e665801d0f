package accounts

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/internal/token"
)

// Settings are a site's customer-facing options.
type Settings struct {
	// OfflineMessage is shown to visitors outside working hours.
	OfflineMessage string `json:"offline_message,omitempty"`
	// QueueMessage is shown to a visitor waiting in the queue.
	QueueMessage string `json:"queue_message,omitempty"`
	// MaxQueue is the longest queue; 0 means unlimited.
	MaxQueue int `json:"max_queue,omitempty"`
}

// Site is one tenant.
type Site struct {
	ID string `json:"id"`
	// Secret signs verified visitors (package internal/token): 32 random
	// bytes, hex-encoded; the 64 characters are the HMAC key.
	Secret string `json:"secret"`
	// PrevSecret is the secret before the last rotation; it keeps verifying
	// until PrevUntil.
	PrevSecret string    `json:"prev_secret,omitempty"`
	PrevUntil  time.Time `json:"prev_until,omitzero"`
	// Origins are the allowed browser origins ("https://shop.example");
	// empty allows any.
	Origins  []string  `json:"origins,omitempty"`
	Settings Settings  `json:"settings"`
	Created  time.Time `json:"created"`
}

// Secrets returns the secrets that verify tokens at now: the current one,
// and the previous one while its grace period lasts.
func (s *Site) Secrets(now time.Time) [][]byte {
	out := [][]byte{[]byte(s.Secret)}
	if s.PrevSecret != "" && now.Before(s.PrevUntil) {
		out = append(out, []byte(s.PrevSecret))
	}
	return out
}

func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

func validSiteFields(origins []string, set Settings) error {
	if len(origins) > MaxOrigins {
		return fmt.Errorf("%w: at most %d origins", ErrInvalid, MaxOrigins)
	}
	for _, o := range origins {
		if o == "" || len(o) > MaxOriginLen {
			return fmt.Errorf("%w: origin %q", ErrInvalid, o)
		}
	}
	if err := validText("offline message", set.OfflineMessage, MaxMessage); err != nil {
		return err
	}
	if err := validText("queue message", set.QueueMessage, MaxMessage); err != nil {
		return err
	}
	if set.MaxQueue < 0 {
		return fmt.Errorf("%w: max queue %d", ErrInvalid, set.MaxQueue)
	}
	return nil
}

// CreateSite creates a site with a fresh random secret. ErrSiteExists if
// the id is taken.
func (a *Accounts) CreateSite(id string, origins []string, set Settings) (Site, error) {
	if err := validSite(id); err != nil {
		return Site{}, err
	}
	if err := validSiteFields(origins, set); err != nil {
		return Site{}, err
	}
	sec, err := newSecret()
	if err != nil {
		return Site{}, err
	}
	s := Site{ID: id, Secret: sec, Origins: append([]string(nil), origins...), Settings: set, Created: a.now().UTC()}
	a.mu.Lock()
	defer a.mu.Unlock()
	var old Site
	if ok, err := a.getJSON(siteKey(id), &old); err != nil {
		return Site{}, err
	} else if ok {
		return Site{}, ErrSiteExists
	}
	if err := a.write(op{siteKey(id), &s}); err != nil {
		return Site{}, err
	}
	a.c.putSite(&s)
	return s, nil
}

// GetSite returns a site, ErrNotFound if there is none.
func (a *Accounts) GetSite(id string) (Site, error) {
	var s Site
	if err := validSite(id); err != nil {
		return s, err
	}
	ok, err := a.getJSON(siteKey(id), &s)
	if err != nil {
		return Site{}, err
	}
	if !ok {
		return Site{}, ErrNotFound
	}
	return s, nil
}

// UpdateSite replaces a site's allowed origins and settings.
func (a *Accounts) UpdateSite(id string, origins []string, set Settings) (Site, error) {
	if err := validSiteFields(origins, set); err != nil {
		return Site{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s, err := a.GetSite(id)
	if err != nil {
		return Site{}, err
	}
	s.Origins, s.Settings = append([]string(nil), origins...), set
	if err := a.write(op{siteKey(id), &s}); err != nil {
		return Site{}, err
	}
	a.c.putSite(&s)
	return s, nil
}

// RotateSecret gives a site a new random secret. The old one keeps
// verifying for Options.SecretGrace, so site backends can switch without
// refusing visitors in between; a second rotation within the grace period
// ends the first old secret's grace.
func (a *Accounts) RotateSecret(id string) (Site, error) {
	sec, err := newSecret()
	if err != nil {
		return Site{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s, err := a.GetSite(id)
	if err != nil {
		return Site{}, err
	}
	s.PrevSecret, s.PrevUntil, s.Secret = s.Secret, a.now().UTC().Add(a.opts.SecretGrace), sec
	if err := a.write(op{siteKey(id), &s}); err != nil {
		return Site{}, err
	}
	a.c.putSite(&s)
	return s, nil
}

// VerifyToken checks an identity token (package internal/token) of site
// for (role, user) against the site's current secret, then against the
// previous one while its grace lasts. It returns ErrNotFound for an unknown
// site and the token package's error otherwise.
func (a *Accounts) VerifyToken(site, role, user, tok string) error {
	if err := validSite(site); err != nil {
		return err
	}
	s, ok := a.c.site(site)
	if !ok {
		return ErrNotFound
	}
	return a.verifyWith(s, role, user, tok)
}

func (a *Accounts) verifyWith(s *Site, role, user, tok string) (err error) {
	now := a.now()
	for _, sec := range s.Secrets(now) {
		if err = token.Verify(sec, tok, s.ID, role, user, now); !errors.Is(err, token.ErrBadSignature) {
			return err
		}
	}
	return err
}
