package worker

import (
	"context"
	"sync"
	"time"

	"github.com/webhookd/webhookd"
)

// endpoint returns the endpoint with id as it was at version (its
// UpdateTime), from the cache when it holds that version and from the
// database otherwise. A zero version always reads the database. It returns
// nil, nil when the endpoint is gone.
func (e *Engine) endpoint(ctx context.Context, id string, version time.Time) (*webhookd.Endpoint, error) {
	if ep := e.endpoints.get(id, version); ep != nil {
		return ep, nil
	}
	ep, err := e.cfg.Store.GetEndpoint(ctx, "", id)
	switch {
	case webhookd.KindOf(err) == webhookd.KindNotFound:
		return nil, nil
	case err != nil:
		return nil, err
	}
	e.endpoints.put(ep)
	return ep, nil
}

// maxCachedEndpoints bounds the endpoint cache; past it the cache starts
// over, which costs one read per endpoint.
const maxCachedEndpoints = 10_000

// endpointCache keeps the endpoints the engine last read, each shared by
// every attempt that uses it, which must not modify it. An entry is only
// used for the version it was read at, so it can never be stale: an
// endpoint changed since is read again.
type endpointCache struct {
	mu sync.Mutex
	m  map[string]*webhookd.Endpoint
}

func (c *endpointCache) get(id string, version time.Time) *webhookd.Endpoint {
	if version.IsZero() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ep := c.m[id]; ep != nil && ep.UpdateTime.Equal(version) {
		return ep
	}
	return nil
}

func (c *endpointCache) put(ep *webhookd.Endpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedEndpoints {
		c.m = make(map[string]*webhookd.Endpoint)
	}
	c.m[ep.ID] = ep
}

func (c *endpointCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}
