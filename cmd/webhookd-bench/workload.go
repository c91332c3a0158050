package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/daemon"
)

// benchEventType is the one type every endpoint subscribes to.
const benchEventType = "property.created"

// eventData is the payload of every event: the guide's property.created
// example, padded with a description to about size bytes of JSON.
func eventData(size int) map[string]any {
	data := map[string]any{
		"property": map[string]any{
			"id":        "prop_123456",
			"address":   "123 Main St, New York, NY 10001",
			"price":     750000,
			"bedrooms":  2,
			"bathrooms": 2,
			"agent":     map[string]any{"id": "agent_42", "name": "Jane Doe", "email": "jane@example.com"},
		},
	}
	b, _ := json.Marshal(data)
	if pad := size - len(b) - len(`,"description":""`); pad > 0 {
		data["property"].(map[string]any)["description"] = strings.Repeat("x", pad)
	}
	return data
}

// publisher publishes events to one account over gRPC.
type publisher struct {
	d       *daemon.Process
	account string
	data    *structpb.Struct
}

func newPublisher(d *daemon.Process, account string, data map[string]any) (*publisher, error) {
	s, err := structpb.NewStruct(data)
	if err != nil {
		return nil, err
	}
	return &publisher{d: d, account: account, data: s}, nil
}

// published is one event: its id and when the PublishEvent call started,
// the zero point of its deliveries' latency (a delivery may arrive before
// the call returns).
type published struct {
	id    string
	start time.Time
	call  time.Duration // how long PublishEvent took
}

func (p *publisher) publish(ctx context.Context) (published, error) {
	start := time.Now()
	ev, err := p.d.Webhooks.PublishEvent(ctx, &webhooksv1.PublishEventRequest{
		Account: p.account,
		Event:   &webhooksv1.Event{Type: benchEventType, Data: p.data},
	})
	if err != nil {
		return published{}, err
	}
	return published{
		id:    strings.TrimPrefix(ev.GetName(), "events/"),
		start: start,
		call:  time.Since(start),
	}, nil
}

// burst publishes n events from conc goroutines as fast as webhookd takes
// them.
func (p *publisher) burst(ctx context.Context, n, conc int) ([]published, error) {
	ctx = p.d.Authed(ctx)
	var (
		next    atomic.Int64
		mu      sync.Mutex
		out     = make([]published, 0, n)
		firstEr error
		wg      sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]published, 0, n/conc+1)
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				pub, err := p.publish(ctx)
				if err != nil {
					mu.Lock()
					if firstEr == nil {
						firstEr = fmt.Errorf("PublishEvent: %w", err)
					}
					mu.Unlock()
					cancel()
					return
				}
				mine = append(mine, pub)
			}
			mu.Lock()
			out = append(out, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out, firstEr
}

// steady publishes rate events per second for d, each at its due time
// whatever the previous ones are doing (an open loop, as independent
// clients would), with at most maxInFlight calls outstanding.
func (p *publisher) steady(ctx context.Context, rate int, d time.Duration, maxInFlight int) ([]published, error) {
	ctx = p.d.Authed(ctx)
	n := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	var (
		mu      sync.Mutex
		out     = make([]published, 0, n)
		firstEr error
		wg      sync.WaitGroup
		sem     = make(chan struct{}, maxInFlight)
	)
	begin := time.Now()
	for i := range n {
		if wait := time.Until(begin.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		mu.Lock()
		failed := firstEr != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			pub, err := p.publish(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstEr == nil {
					firstEr = fmt.Errorf("PublishEvent: %w", err)
				}
				return
			}
			out = append(out, pub)
		}()
	}
	wg.Wait()
	return out, firstEr
}
