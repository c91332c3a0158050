package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
)

// One batch is one transaction in which a failing call rolls back alone and
// a key used twice names one event.
func TestSQLitePublishBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opened, err := Open(ctx, Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "w.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	s := opened.(*entStore)
	ids := webhookd.NewIDGenerator(nil)
	now := time.Now()
	acct := &webhookd.Account{ID: ids.New(webhookd.PrefixAccount), CreateTime: now, UpdateTime: now}
	if err := s.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	ep := &webhookd.Endpoint{ID: ids.New(webhookd.PrefixEndpoint), AccountID: acct.ID, URL: "https://example.com", EventTypes: []string{"a.b"}, Secret: "s", CreateTime: now, UpdateTime: now}
	if err := s.CreateEndpoint(ctx, ep, 0); err != nil {
		t.Fatal(err)
	}
	event := func(account, key string) *webhookd.Event {
		return &webhookd.Event{ID: ids.New(webhookd.PrefixEvent), AccountID: account, Type: "a.b", Data: []byte(`{}`), IdempotencyKey: key, CreateTime: now}
	}
	events := []*webhookd.Event{
		event(acct.ID, ""),
		event("acc_gone", ""), // no such account: its insert fails
		event(acct.ID, "k1"),
		event(acct.ID, "k1"), // the key of the one before
		event(acct.ID, ""),
	}
	calls := make([]*sqlitePublishCall, len(events))
	for i, ev := range events {
		calls[i] = &sqlitePublishCall{ctx: ctx, ev: ev, newID: ids.New, done: make(chan PublishResult, 1)}
	}
	b := s.paths.(portablePaths).publisher
	b.flush(calls)
	if got := b.transactions.Load(); got != 1 {
		t.Errorf("%d transactions for one batch", got)
	}
	results := make([]PublishResult, len(calls))
	for i, c := range calls {
		results[i] = <-c.done
	}
	for _, i := range []int{0, 2, 4} {
		if r := results[i]; r.Err != nil || !r.Created || r.Stored.ID != events[i].ID || len(r.Deliveries) != 1 {
			t.Errorf("call %d: created %v, %d deliveries, err %v", i, r.Created, len(r.Deliveries), r.Err)
		}
		if _, err := s.GetEvent(ctx, acct.ID, events[i].ID); err != nil {
			t.Errorf("event of call %d not stored: %v", i, err)
		}
	}
	if results[1].Err == nil {
		t.Error("the event of an account that does not exist was published")
	}
	if r := results[3]; r.Err != nil || r.Created || r.Stored.ID != events[2].ID || len(r.Deliveries) != 0 {
		t.Errorf("reused key: created %v, event %v, %d deliveries, err %v; want the first event", r.Created, r.Stored, len(r.Deliveries), r.Err)
	}
	for _, i := range []int{1, 3} {
		if _, err := s.GetEvent(ctx, "", events[i].ID); webhookd.KindOf(err) != webhookd.KindNotFound {
			t.Errorf("event of call %d: %v, want not found", i, err)
		}
	}
}

// Calls made at once are all answered, in fewer transactions than calls
// when they queue (not asserted: it depends on the scheduler), and a closed
// store refuses more.
func TestSQLitePublishConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opened, err := Open(ctx, Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "w.db")})
	if err != nil {
		t.Fatal(err)
	}
	s := opened.(*entStore)
	ids := webhookd.NewIDGenerator(nil)
	now := time.Now()
	acct := &webhookd.Account{ID: ids.New(webhookd.PrefixAccount), CreateTime: now, UpdateTime: now}
	if err := s.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	const n = 100
	errs := make(chan error, n)
	for range n {
		go func() {
			ev := &webhookd.Event{ID: ids.New(webhookd.PrefixEvent), AccountID: acct.ID, Type: "a.b", Data: []byte(`{}`), CreateTime: now}
			_, _, created, err := s.PublishEvent(ctx, ev, ids.New)
			if err == nil && !created {
				err = context.Canceled // any error: a new event must be created
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d publishes in %d transactions", n, s.paths.(portablePaths).publisher.transactions.Load())
	s.Close()
	ev := &webhookd.Event{ID: ids.New(webhookd.PrefixEvent), AccountID: acct.ID, Type: "a.b", Data: []byte(`{}`), CreateTime: now}
	if _, _, _, err := s.PublishEvent(ctx, ev, ids.New); webhookd.KindOf(err) != webhookd.KindUnavailable {
		t.Errorf("publish after Close: %v, want unavailable", err)
	}
}
