package accounts

import (
	"bytes"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/internal/sites"
	"github.com/kefu-im/kefu/storage"
)

// Role is what an agent may do in the console and the REST API.
type Role string

// Roles.
const (
	RoleAdmin Role = "admin" // manages agents and site settings
	RoleAgent Role = "agent" // answers conversations
)

// Agent is one agent of a site, as callers see it (the password hash never
// leaves the package).
type Agent struct {
	ID       string    `json:"id"`
	Site     string    `json:"site"`
	Email    string    `json:"email"` // as given; unique per site, case-insensitively
	Name     string    `json:"name"`
	Role     Role      `json:"role"`
	Groups   []string  `json:"groups,omitempty"`
	Capacity int       `json:"capacity"` // max concurrent conversations
	Weight   int       `json:"weight"`   // routing weight, 1..MaxWeight
	Created  time.Time `json:"created"`
}

// agentRecord is what is stored: the agent, its password hash and the
// session epoch, bumped by SetPassword to end every session of the agent.
type agentRecord struct {
	Agent
	Hash  string `json:"hash"`
	Epoch uint64 `json:"epoch"`
}

// AgentSpec describes a new agent.
type AgentSpec struct {
	Email string
	Name  string
	// Role: zero value RoleAgent.
	Role   Role
	Groups []string
	// Capacity: zero value DefaultCapacity.
	Capacity int
	// Weight: zero value 1.
	Weight int
	// Password: empty means "generate one" (CreateAgent returns it).
	Password string
}

// DefaultCapacity is an agent's capacity when none is given.
const DefaultCapacity = 5

// AgentUpdate changes the non-nil fields of an agent.
type AgentUpdate struct {
	Email    *string
	Name     *string
	Role     *Role
	Groups   *[]string
	Capacity *int
	Weight   *int
}

func validAgent(ag *Agent) error {
	if err := validText("name", ag.Name, MaxNameLen); err != nil {
		return err
	}
	if ag.Role != RoleAdmin && ag.Role != RoleAgent {
		return fmt.Errorf("%w: role %q (want admin or agent)", ErrInvalid, ag.Role)
	}
	if len(ag.Groups) > MaxGroups {
		return fmt.Errorf("%w: at most %d groups", ErrInvalid, MaxGroups)
	}
	for _, g := range ag.Groups {
		if !sites.ValidID(g) {
			return fmt.Errorf("%w: group %q", ErrInvalid, g)
		}
	}
	if ag.Capacity < 1 || ag.Capacity > MaxCapacity {
		return fmt.Errorf("%w: capacity %d (1..%d)", ErrInvalid, ag.Capacity, MaxCapacity)
	}
	if ag.Weight < 1 || ag.Weight > MaxWeight {
		return fmt.Errorf("%w: weight %d (1..%d)", ErrInvalid, ag.Weight, MaxWeight)
	}
	return nil
}

// CreateAgent adds an agent to an existing site. When spec.Password is
// empty a random one-time password is generated and returned; it is shown
// nowhere else, so the caller must hand it over at once. ErrNotFound for an
// unknown site, ErrEmailTaken for a duplicate email.
func (a *Accounts) CreateAgent(site string, spec AgentSpec) (Agent, string, error) {
	if err := validSite(site); err != nil {
		return Agent{}, "", err
	}
	lower, err := normEmail(spec.Email)
	if err != nil {
		return Agent{}, "", err
	}
	ag := Agent{Site: site, Email: spec.Email, Name: spec.Name, Role: spec.Role,
		Groups: append([]string(nil), spec.Groups...), Capacity: spec.Capacity, Weight: spec.Weight,
		Created: a.now().UTC()}
	if ag.Role == "" {
		ag.Role = RoleAgent
	}
	if ag.Capacity == 0 {
		ag.Capacity = DefaultCapacity
	}
	if ag.Weight == 0 {
		ag.Weight = 1
	}
	if err := validAgent(&ag); err != nil {
		return Agent{}, "", err
	}
	pw, generated := spec.Password, ""
	if pw == "" {
		if pw, err = randomPassword(); err != nil {
			return Agent{}, "", err
		}
		generated = pw
	}
	hash, err := HashPassword(pw, a.opts.Argon2) // outside the lock: it is slow
	if err != nil {
		return Agent{}, "", err
	}
	if ag.ID, err = randomID("ag"); err != nil {
		return Agent{}, "", err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.GetSite(site); err != nil {
		return Agent{}, "", err
	}
	if _, ok, err := a.st.Get(emailKey(site, lower)); err != nil {
		return Agent{}, "", err
	} else if ok {
		return Agent{}, "", ErrEmailTaken
	}
	rec := agentRecord{Agent: ag, Hash: hash}
	if err := a.write(op{agentKey(site, ag.ID), &rec}, op{emailKey(site, lower), []byte(ag.ID)}); err != nil {
		return Agent{}, "", err
	}
	a.c.putAgent(&ag, rec.Epoch)
	return ag, generated, nil
}

// record reads an agent's stored record within site.
func (a *Accounts) record(site, id string) (agentRecord, error) {
	var rec agentRecord
	if err := validSite(site); err != nil {
		return rec, err
	}
	if !sites.ValidID(id) {
		return rec, ErrNotFound
	}
	ok, err := a.getJSON(agentKey(site, id), &rec)
	if err != nil {
		return agentRecord{}, err
	}
	if !ok || rec.Site != site || rec.ID != id {
		return agentRecord{}, ErrNotFound
	}
	return rec, nil
}

// GetAgent returns an agent of site; ErrNotFound if site has none with id
// (in particular for an agent of another site).
func (a *Accounts) GetAgent(site, id string) (Agent, error) {
	rec, err := a.record(site, id)
	return rec.Agent, err
}

// AgentByEmail finds an agent of site by email, case-insensitively.
func (a *Accounts) AgentByEmail(site, email string) (Agent, error) {
	rec, err := a.recordByEmail(site, email)
	return rec.Agent, err
}

func (a *Accounts) recordByEmail(site, email string) (agentRecord, error) {
	if err := validSite(site); err != nil {
		return agentRecord{}, err
	}
	lower, err := normEmail(email)
	if err != nil {
		return agentRecord{}, ErrNotFound
	}
	id, ok, err := a.st.Get(emailKey(site, lower))
	if err != nil {
		return agentRecord{}, err
	}
	if !ok {
		return agentRecord{}, ErrNotFound
	}
	return a.record(site, string(id))
}

// UpdateAgent changes the fields set in u and returns the result. Changing
// the email keeps it unique within the site (ErrEmailTaken).
func (a *Accounts) UpdateAgent(site, id string, u AgentUpdate) (Agent, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rec, err := a.record(site, id)
	if err != nil {
		return Agent{}, err
	}
	ag := rec.Agent
	if u.Name != nil {
		ag.Name = *u.Name
	}
	if u.Role != nil {
		ag.Role = *u.Role
	}
	if u.Groups != nil {
		ag.Groups = append([]string(nil), (*u.Groups)...)
	}
	if u.Capacity != nil {
		ag.Capacity = *u.Capacity
	}
	if u.Weight != nil {
		ag.Weight = *u.Weight
	}
	if err := validAgent(&ag); err != nil {
		return Agent{}, err
	}
	ops := make([]op, 0, 3)
	if u.Email != nil {
		oldLower, _ := normEmail(ag.Email)
		newLower, err := normEmail(*u.Email)
		if err != nil {
			return Agent{}, err
		}
		if newLower != oldLower {
			if _, ok, err := a.st.Get(emailKey(site, newLower)); err != nil {
				return Agent{}, err
			} else if ok {
				return Agent{}, ErrEmailTaken
			}
			ops = append(ops, op{emailKey(site, oldLower), nil}, op{emailKey(site, newLower), []byte(id)})
		}
		ag.Email = *u.Email
	}
	rec.Agent = ag
	ops = append(ops, op{agentKey(site, id), &rec})
	if err := a.write(ops...); err != nil {
		return Agent{}, err
	}
	a.c.putAgent(&ag, rec.Epoch)
	return ag, nil
}

// SetPassword replaces an agent's password and ends all of its sessions.
// An empty password generates a one-time one, which is returned.
func (a *Accounts) SetPassword(site, id, password string) (string, error) {
	generated := ""
	if password == "" {
		var err error
		if password, err = randomPassword(); err != nil {
			return "", err
		}
		generated = password
	}
	if _, err := a.record(site, id); err != nil { // fail fast before hashing
		return "", err
	}
	hash, err := HashPassword(password, a.opts.Argon2)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rec, err := a.record(site, id)
	if err != nil {
		return "", err
	}
	rec.Hash, rec.Epoch = hash, rec.Epoch+1
	if err := a.write(op{agentKey(site, id), &rec}); err != nil {
		return "", err
	}
	a.c.putAgent(&rec.Agent, rec.Epoch)
	return generated, nil
}

// DeleteAgent removes an agent and its email; its sessions stop
// authenticating at once (Authenticate finds no agent) and are removed by
// PurgeSessions.
func (a *Accounts) DeleteAgent(site, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	rec, err := a.record(site, id)
	if err != nil {
		return err
	}
	lower, _ := normEmail(rec.Email)
	if err := a.write(op{agentKey(site, id), nil}, op{emailKey(site, lower), nil}); err != nil {
		return err
	}
	a.c.agents.Delete(agentRef{site, id})
	return nil
}

// ListAgents returns up to limit agents of site in id order, starting after
// cursor ("" for the first page), and the cursor of the next page ("" when
// this is the last). limit 0 means DefaultListLimit; it is capped at
// MaxListLimit. The scan starts at the site's first agent and skips to the
// cursor: cost grows with the page's position, fine for the hundreds of
// agents a site has.
func (a *Accounts) ListAgents(site, cursor string, limit int) ([]Agent, string, error) {
	if err := validSite(site); err != nil {
		return nil, "", err
	}
	switch {
	case limit < 0:
		return nil, "", fmt.Errorf("%w: limit %d", ErrInvalid, limit)
	case limit == 0:
		limit = DefaultListLimit
	case limit > MaxListLimit:
		limit = MaxListLimit
	}
	var after []byte
	if cursor != "" {
		after = agentKey(site, cursor)
	}
	out := make([]Agent, 0, min(limit, 64))
	next := ""
	err := a.st.ScanPrefix(appendKindPrefix(nil, site, kindAgent), func(key, val []byte) error {
		if after != nil && bytes.Compare(key, after) <= 0 {
			return nil
		}
		if len(out) == limit {
			next = out[len(out)-1].ID
			return storage.ErrStop
		}
		var rec agentRecord
		if err := jsonUnmarshal(val, &rec); err != nil {
			return err
		}
		out = append(out, rec.Agent)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}
