package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/internal/testenv"
)

const statsIndex = "delivery_endpoint_id_status_update_time"

// TestEndpointStatsPlan checks, on both backends, that EndpointStats'
// statements read the deliveries index (endpoint_id, status, update_time)
// and never scan the table: with 30,000 deliveries of three endpoints,
// analysed, the planner picks the index for the counts and for each latest
// error, and the figures are right.
func TestEndpointStatsPlan(t *testing.T) {
	t.Parallel()
	backends := map[string]func(t *testing.T) string{
		"SQLite":   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "w.db") },
		"Postgres": func(t *testing.T) string { return testenv.PostgresURL(t) },
	}
	for name, databaseURL := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testEndpointStatsPlan(t, databaseURL(t))
		})
	}
}

func testEndpointStatsPlan(t *testing.T, databaseURL string) {
	ctx := context.Background()
	opened, err := Open(ctx, Config{DatabaseURL: databaseURL})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer opened.Close()
	s := opened.(*entStore)
	ids := webhookd.NewIDGenerator(nil)
	now := time.Now().UTC()
	acct := &webhookd.Account{ID: ids.New(webhookd.PrefixAccount), CreateTime: now, UpdateTime: now}
	if err := s.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	ev := &webhookd.Event{ID: ids.New(webhookd.PrefixEvent), AccountID: acct.ID, Type: "a.b", Data: []byte(`{}`), CreateTime: now}
	if _, _, _, err := s.PublishEvent(ctx, ev, ids.New); err != nil {
		t.Fatal(err)
	}
	var endpoints []string
	for i := range 3 {
		ep := &webhookd.Endpoint{ID: ids.New(webhookd.PrefixEndpoint), AccountID: acct.ID, URL: "https://example.com", EventTypes: []string{"a.b"}, Secret: "whsec_x", CreateTime: now, UpdateTime: now}
		if err := s.CreateEndpoint(ctx, ep, 0); err != nil {
			t.Fatal(err)
		}
		endpoints = append(endpoints, ep.ID)
		// Most of the history is older than the window.
		if err := s.SeedDeliveries(ctx, ev, ep.ID, fmt.Sprintf("dlv_%d_old", i), 9000, now.Add(-48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.SeedDeliveries(ctx, ev, ep.ID, fmt.Sprintf("dlv_%d_new", i), 1000, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}

	stats, err := s.EndpointStats(ctx, endpoints, now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range endpoints {
		// Of 1…1000, every third (333) failed; the rest succeeded.
		got := stats[id]
		if got == nil || got.Succeeded != 667 || got.Failed != 333 || got.LastError != "HTTP 500 Internal Server Error" ||
			!got.LastErrorTime.Equal(dbTime(now.Add(-time.Hour))) {
			t.Errorf("stats of %s = %+v, want 667 succeeded, 333 failed, the HTTP 500 an hour ago", id, got)
		}
	}

	counts, countArgs, latest, latestArgs := s.endpointStatsQueries(endpoints, now.Add(-24*time.Hour))
	for _, q := range []struct {
		name, sql string
		args      []any
	}{{"counts", counts, countArgs}, {"latest errors", latest, latestArgs}} {
		plan := explain(t, s.db, s.dialect, q.sql, q.args)
		t.Logf("%s:\n%s", q.name, plan)
		if !strings.Contains(plan, statsIndex) {
			t.Errorf("%s: the plan does not use %s", q.name, statsIndex)
		}
		for _, line := range strings.Split(plan, "\n") {
			if strings.Contains(line, "Seq Scan on deliveries") || strings.HasPrefix(strings.TrimLeft(line, " |-`"), "SCAN deliveries") {
				t.Errorf("%s: scans the deliveries table: %s", q.name, line)
			}
		}
	}
}

// explain returns the query plan of q, one line per step.
func explain(t *testing.T, db *sql.DB, dialectName, q string, args []any) string {
	t.Helper()
	prefix := "EXPLAIN QUERY PLAN "
	if dialectName == dialect.Postgres {
		prefix = "EXPLAIN "
	}
	rows, err := db.QueryContext(context.Background(), prefix+q, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		// SQLite: id, parent, notused, detail; PostgreSQL: one text column.
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
