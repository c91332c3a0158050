package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// publisher publishes events to one account, over gRPC (PublishEvent) or
// REST (POST /v1/events), as internal publishers and customers do.
type publisher struct {
	d *daemon.Process
	// publishOne publishes one event and returns its id; ctx carries the
	// admin token for gRPC.
	publishOne func(ctx context.Context) (string, error)
}

func newGRPCPublisher(d *daemon.Process, account string, data map[string]any) (*publisher, error) {
	s, err := structpb.NewStruct(data)
	if err != nil {
		return nil, err
	}
	return &publisher{d: d, publishOne: func(ctx context.Context) (string, error) {
		ev, err := d.Webhooks.PublishEvent(ctx, &webhooksv1.PublishEventRequest{
			Account: account,
			Event:   &webhooksv1.Event{Type: benchEventType, Data: s},
		})
		if err != nil {
			return "", fmt.Errorf("PublishEvent: %w", err)
		}
		return strings.TrimPrefix(ev.GetName(), "events/"), nil
	}}, nil
}

// newRESTPublisher publishes with a keep-alive pool of up to conns
// connections, one per concurrent call, as a customer's HTTP client would.
func newRESTPublisher(d *daemon.Process, account string, data map[string]any, conns int) (*publisher, error) {
	body, err := json.Marshal(map[string]any{"type": benchEventType, "data": data})
	if err != nil {
		return nil, err
	}
	target := "http://" + d.HTTPAddr + "/v1/events?account=" + url.QueryEscape(account)
	client := &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
	auth := "Bearer " + d.Token
	return &publisher{d: d, publishOne: func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		resp, err := client.Do(req)
		if err != nil {
			return "", fmt.Errorf("POST /v1/events: %w", err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return "", fmt.Errorf("POST /v1/events: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("POST /v1/events: %s: %.200s", resp.Status, b)
		}
		var ev struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(b, &ev); err != nil || !strings.HasPrefix(ev.Name, "events/") {
			return "", fmt.Errorf("POST /v1/events: no event name in %.200s", b)
		}
		return strings.TrimPrefix(ev.Name, "events/"), nil
	}}, nil
}

// published is one event: its id and when the publish call started, the
// zero point of its deliveries' latency (a delivery may arrive before the
// call returns).
type published struct {
	id    string
	start time.Time
	call  time.Duration // how long the publish call took
}

func (p *publisher) publish(ctx context.Context) (published, error) {
	start := time.Now()
	id, err := p.publishOne(ctx)
	if err != nil {
		return published{}, err
	}
	return published{id: id, start: start, call: time.Since(start)}, nil
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
						firstEr = err
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

// steady publishes n events, one every interval, each at its due time
// whatever the previous ones are doing (an open loop, as independent
// clients would), with at most maxInFlight calls outstanding.
func (p *publisher) steady(ctx context.Context, n int, interval time.Duration, maxInFlight int) ([]published, error) {
	ctx = p.d.Authed(ctx)
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
					firstEr = err
				}
				return
			}
			out = append(out, pub)
		}()
	}
	wg.Wait()
	return out, firstEr
}
