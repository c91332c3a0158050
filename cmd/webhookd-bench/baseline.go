package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/payload"
	"github.com/webhookd/webhookd/signature"
	"github.com/webhookd/webhookd/worker"
)

// baseline sends n signed POSTs straight to the receiver from conc
// goroutines with a plain net/http client: the same work on the wire as
// webhookd's deliveries (same envelope size, the same two signatures per
// request, a keep-alive pool) without a database or a schedule. It is the
// ceiling webhookd's throughput is compared with on this machine.
//
// It posts to urls, which must be the receiver's first endpoints (answerOK).
func baseline(ctx context.Context, r *receiver, urls []string, data map[string]any, n, conc int) (result, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return result{}, err
	}
	canon, err := payload.CanonicalizeObject(raw)
	if err != nil {
		return result{}, err
	}
	secrets := make([]string, len(urls))
	for i := range secrets {
		secrets[i] = webhookd.NewEndpointSecret()
	}
	client := &http.Client{Transport: &http.Transport{
		Proxy: nil,
		// Room for conc idle connections to every host: a pool smaller
		// than that closes connections as requests finish, and a request
		// about to reuse one then fails ("too many idle connections").
		MaxIdleConns:        conc * len(urls),
		MaxIdleConnsPerHost: conc,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
	defer client.CloseIdleConnections()

	col := r.expect(n)
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		sendErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				// One event per request, with an id as long as webhookd's
				// (evt_ and 26 characters), so every body differs as theirs do.
				endpoint := int(i) % len(urls)
				ev := &webhookd.Event{
					ID:         fmt.Sprintf("evt_baseline%014d", i),
					Type:       benchEventType,
					Data:       canon,
					CreateTime: time.Now(),
				}
				if err := post(ctx, client, urls[endpoint], ev, secrets[endpoint]); err != nil {
					errOnce.Do(func() { sendErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if sendErr != nil {
		return result{}, fmt.Errorf("baseline: %w", sendErr)
	}
	if err := col.wait(ctx, time.Minute); err != nil {
		return result{}, fmt.Errorf("baseline: %w", err)
	}
	last := start
	for _, at := range col.arrivals {
		if at.After(last) {
			last = at
		}
	}
	return result{deliveries: n, elapsed: last.Sub(start), bodyBytes: len(worker.Envelope(&webhookd.Event{
		ID: "evt_baseline00000000000000", Type: benchEventType, Data: canon, CreateTime: start,
	}))}, nil
}

func post(ctx context.Context, client *http.Client, url string, ev *webhookd.Event, secret string) error {
	body := worker.Envelope(ev)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "webhookd-bench")
	signature.Sign(req.Header, ev.ID, time.Now(), body, []string{secret})
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return nil
}
