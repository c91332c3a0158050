package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/daemon"
)

// eventType is the one type every endpoint subscribes to.
const eventType = "property.created"

// node is one of the run's webhookd processes.
type node struct {
	name  string // e.g. "2 (worker)"
	api   bool
	proc  *daemon.Process
	dying atomic.Bool // set while the run kills or stops it on purpose

	mu         sync.Mutex
	unexpected []string // how it died when nobody killed it
}

// watch restarts the node whenever it exits without the run killing it, and
// records how it died: webhookd must survive its database and Redis going
// away, so such an exit is a bug the run reports.
func (n *node) watch(ctx context.Context) {
	for {
		exited := n.proc.Exited()
		select {
		case <-ctx.Done():
			return
		case <-exited:
		}
		if n.dying.Load() || n.proc.Exited() != exited {
			// Killed on purpose, or already running again.
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return
			}
			continue
		}
		n.mu.Lock()
		n.unexpected = append(n.unexpected, fmt.Sprintf("%v; log:\n%s", n.proc.ExitErr(), n.proc.LogTail(15)))
		n.mu.Unlock()
		logf("webhookd %s exited on its own (%v): restarting it", n.name, n.proc.ExitErr())
		if err := n.proc.Restart(ctx); err != nil {
			logf("webhookd %s did not start again: %v", n.name, err)
			if err := sleep(ctx, time.Second); err != nil {
				return
			}
		}
	}
}

// endpointRef is an endpoint of the workload: which account it belongs to.
type endpointRef struct {
	account int
	name    string
}

// setup creates the accounts and endpoints through n, endpoint j of
// recv.urls belonging to account j mod accounts, and tells the receiver
// their secrets.
func setup(ctx context.Context, n *node, recv *receiver, accounts int) (accountNames []string, endpoints []endpointRef, err error) {
	ctx = n.proc.Authed(ctx)
	for i := range accounts {
		acct, err := n.proc.Admin.CreateAccount(ctx, &webhooksv1.CreateAccountRequest{
			Account: &webhooksv1.Account{DisplayName: fmt.Sprintf("webhookd-chaos %d", i)},
		})
		if err != nil {
			return nil, nil, fmt.Errorf("creating account %d: %w", i, err)
		}
		accountNames = append(accountNames, acct.GetName())
	}
	for j, u := range recv.urls {
		a := j % accounts
		ep, err := n.proc.Webhooks.CreateEndpoint(ctx, &webhooksv1.CreateEndpointRequest{
			Account:  accountNames[a],
			Endpoint: &webhooksv1.Endpoint{Url: u, EventTypes: []string{eventType}},
		})
		if err != nil {
			return nil, nil, fmt.Errorf("creating endpoint %s: %w", u, err)
		}
		recv.setSecret(j, ep.GetSecret())
		endpoints = append(endpoints, endpointRef{account: a, name: ep.GetName()})
	}
	return accountNames, endpoints, nil
}

// publishedEvent is an event the API acknowledged.
type publishedEvent struct {
	id      string
	account int
	start   time.Time // the first PublishEvent call: the zero of its delays
	acked   time.Time // when the call that succeeded returned
}

// publisher publishes the workload: event i to account i mod len(accounts),
// through the API nodes in turn. A failed call is retried, on the other API
// node, with the same idempotency key, so a publish that was committed but
// whose answer was lost is not published twice.
type publisher struct {
	apis     []*node
	accounts []string
	runID    string
	giveUp   time.Duration // per event

	mu        sync.Mutex
	published []publishedEvent
	failures  map[string]int // failed calls by gRPC code
	failedAt  []time.Time    // when each failed call ended
	abandoned int
	lastErr   string
	retried   atomic.Int64 // events that needed more than one call
}

func newPublisher(apis []*node, accounts []string, runID string) *publisher {
	return &publisher{apis: apis, accounts: accounts, runID: runID, giveUp: 3 * time.Minute, failures: map[string]int{}}
}

// run publishes n events at rate per second, each at its due time whatever
// the earlier ones are doing (as independent clients would), with at most
// inFlight calls outstanding, and returns when every event was acknowledged
// or given up on.
func (p *publisher) run(ctx context.Context, n, rate, inFlight int) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, inFlight)
	interval := time.Second / time.Duration(rate)
	begin := time.Now()
	for i := range n {
		if err := sleep(ctx, time.Until(begin.Add(time.Duration(i)*interval))); err != nil {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			p.publishOne(ctx, i)
		}()
		if (i+1)%(rate*15) == 0 {
			logf("published %d of %d events", p.count(), n)
		}
	}
	wg.Wait()
}

func (p *publisher) publishOne(ctx context.Context, i int) {
	account := i % len(p.accounts)
	data, _ := structpb.NewStruct(map[string]any{
		"property": map[string]any{
			"id":      fmt.Sprintf("prop_%d", i),
			"address": "123 Main St, New York, NY 10001",
			"price":   750000 + i,
		},
	})
	req := &webhooksv1.PublishEventRequest{
		Account:        p.accounts[account],
		Event:          &webhooksv1.Event{Type: eventType, Data: data},
		IdempotencyKey: fmt.Sprintf("chaos-%s-%d", p.runID, i),
	}
	start := time.Now()
	for try := 0; ; try++ {
		n := p.apis[(i+try)%len(p.apis)]
		callCtx, cancel := context.WithTimeout(n.proc.Authed(ctx), 10*time.Second)
		ev, err := n.proc.Webhooks.PublishEvent(callCtx, req)
		cancel()
		if err == nil {
			p.mu.Lock()
			p.published = append(p.published, publishedEvent{
				id:      strings.TrimPrefix(ev.GetName(), "events/"),
				account: account,
				start:   start,
				acked:   time.Now(),
			})
			p.mu.Unlock()
			if try > 0 {
				p.retried.Add(1)
			}
			return
		}
		st := status.Convert(err)
		p.mu.Lock()
		p.failures[st.Code().String()]++
		p.failedAt = append(p.failedAt, time.Now())
		p.lastErr = fmt.Sprintf("%s: %s", st.Code(), st.Message())
		give := time.Since(start) > p.giveUp || ctx.Err() != nil
		if give {
			p.abandoned++
		}
		p.mu.Unlock()
		if give {
			return
		}
		// Back off as a well-behaved client does: a fixed pace from every
		// waiting publisher would hammer a database that is starting up.
		_ = sleep(ctx, min(200*time.Millisecond<<min(try, 4), 3*time.Second))
	}
}

func (p *publisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.published)
}
