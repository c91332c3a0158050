package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent/attempt"
	"github.com/webhookd/webhookd/internal/testenv"
)

// RecordAttempt can only write attempts in order, so these cases reach into
// the Ent client to write some out of order, on both backends: GetDelivery
// lists them oldest first, and deleting the endpoint removes them with its
// deliveries.
func TestAttemptsOfDelivery(t *testing.T) {
	t.Parallel()
	backends := map[string]func(t *testing.T) string{
		"SQLite":   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "w.db") },
		"Postgres": func(t *testing.T) string { return testenv.PostgresURL(t) },
	}
	for name, databaseURL := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testAttemptsOfDelivery(t, databaseURL(t))
		})
	}
}

func testAttemptsOfDelivery(t *testing.T, databaseURL string) {
	ctx := context.Background()
	opened, err := Open(ctx, Config{DatabaseURL: databaseURL})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer opened.Close()
	s := opened.(*entStore)
	ids := webhookd.NewIDGenerator(nil)
	now := time.Now()

	acct := &webhookd.Account{ID: ids.New(webhookd.PrefixAccount), CreateTime: now, UpdateTime: now}
	ep := &webhookd.Endpoint{ID: ids.New(webhookd.PrefixEndpoint), AccountID: acct.ID, URL: "https://example.com", EventTypes: []string{"a.b"}, Secret: "s", CreateTime: now, UpdateTime: now}
	ev := &webhookd.Event{ID: ids.New(webhookd.PrefixEvent), AccountID: acct.ID, Type: "a.b", Data: []byte(`{}`), CreateTime: now}
	if err := s.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEndpoint(ctx, ep, 0); err != nil {
		t.Fatal(err)
	}
	_, deliveries, _, err := s.PublishEvent(ctx, ev, ids.New)
	if err != nil || len(deliveries) != 1 {
		t.Fatalf("PublishEvent = %d deliveries, %v", len(deliveries), err)
	}
	d := deliveries[0]

	// Written out of order to show GetDelivery sorts by number.
	for _, n := range []int{2, 1, 3} {
		err := s.client.Attempt.Create().
			SetID(ids.New(webhookd.PrefixAttempt)).
			SetDeliveryID(d.ID).
			SetNumber(n).
			SetTrigger(attempt.TriggerRetry).
			SetStartTime(dbTime(now.Add(time.Duration(n) * time.Minute))).
			SetDurationNs(int64(1500 * time.Millisecond)).
			SetResponseStatus(500).
			SetResponseBody("oops").
			SetError("HTTP 500").
			Exec(ctx)
		if err != nil {
			t.Fatalf("creating attempt %d: %v", n, err)
		}
	}
	got, err := s.GetDelivery(ctx, acct.ID, d.ID)
	if err != nil {
		t.Fatalf("GetDelivery: %v", err)
	}
	if len(got.Attempts) != 3 {
		t.Fatalf("GetDelivery has %d attempts, want 3", len(got.Attempts))
	}
	for i, a := range got.Attempts {
		if a.Number != i+1 || a.DeliveryID != d.ID || a.Duration != 1500*time.Millisecond || a.Trigger != webhookd.TriggerRetry {
			t.Errorf("attempt %d = %+v", i, a)
		}
	}

	if err := s.DeleteEndpoint(ctx, acct.ID, ep.ID); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	left, err := s.client.Attempt.Query().Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d attempts survived their endpoint's deletion", left)
	}
}

// TestPostgresConnectionBound checks that a PostgreSQL store opens no more
// connections than Config.MaxConns (DefaultMaxConns when unset) and keeps
// as many idle, so that a burst neither storms the server nor reconnects.
func TestPostgresConnectionBound(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ maxConns, want int }{{0, DefaultMaxConns}, {5, 5}} {
		opened, err := Open(t.Context(), Config{DatabaseURL: testenv.PostgresURL(t), MaxConns: tt.maxConns})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		s := opened.(*entStore)
		if got := s.db.Stats().MaxOpenConnections; got != tt.want {
			t.Errorf("MaxConns %d: at most %d connections, want %d", tt.maxConns, got, tt.want)
		}
		// Hold more connections than allowed: the extra caller waits.
		var conns []*sql.Conn
		for range tt.want {
			c, err := s.db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		if c, err := s.db.Conn(ctx); err == nil {
			c.Close()
			t.Errorf("MaxConns %d: opened connection %d", tt.maxConns, tt.want+1)
		}
		cancel()
		for _, c := range conns {
			c.Close()
		}
		if idle := s.db.Stats().Idle; idle != tt.want {
			t.Errorf("MaxConns %d: %d idle connections kept, want %d", tt.maxConns, idle, tt.want)
		}
		opened.Close()
	}
}
