package server

import (
	"context"
	"sync"
	"time"

	"github.com/webhookd/webhookd"
)

// Lookups that every publish makes — does the account exist, is the event
// type in the catalog — answered from memory, so publishing costs one
// database transaction and nothing more.

// catalogTTL bounds how stale the cached catalog may be. The catalog only
// changes when a webhookd of another version starts on the same database.
const catalogTTL = 30 * time.Second

// eventTypeLister reads the event type catalog (store.EventTypes).
type eventTypeLister interface {
	ListEventTypes(ctx context.Context) ([]*webhookd.EventType, error)
}

// accountGetter reads an account (store.Accounts).
type accountGetter interface {
	GetAccount(ctx context.Context, id string) (*webhookd.Account, error)
}

// catalogCache holds the event type catalog.
type catalogCache struct {
	store eventTypeLister
	now   func() time.Time

	mu       sync.Mutex
	byName   map[string]*webhookd.EventType
	loadedAt time.Time
}

// get returns the named event type, KindNotFound when the catalog has none.
func (c *catalogCache) get(ctx context.Context, name string) (*webhookd.EventType, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byName == nil || c.now().Sub(c.loadedAt) > catalogTTL {
		types, err := c.store.ListEventTypes(ctx)
		if err != nil {
			return nil, err
		}
		c.byName = make(map[string]*webhookd.EventType, len(types))
		for _, t := range types {
			c.byName[t.Name] = t
		}
		c.loadedAt = c.now()
	}
	t, ok := c.byName[name]
	if !ok {
		return nil, webhookd.NotFound("event type", name)
	}
	return t, nil
}

// accountCache remembers accounts known to exist. Accounts are never
// deleted, so an entry never goes stale; unknown ids are always looked up.
type accountCache struct {
	store accountGetter
	known sync.Map // account id → struct{}
}

func (c *accountCache) exists(ctx context.Context, id string) error {
	if _, ok := c.known.Load(id); ok {
		return nil
	}
	if _, err := c.store.GetAccount(ctx, id); err != nil {
		return err
	}
	c.known.Store(id, struct{}{})
	return nil
}
