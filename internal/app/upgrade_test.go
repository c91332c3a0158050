package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent/migrate/migrations"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/guidereceiver"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/store"
)

// upgradeBackend is a database an older webhookd left behind, and the
// flags that start the current one on it.
type upgradeBackend struct {
	name    string
	dialect string // Ent's name, as package migrations knows it
	// open returns a new empty database's URL for webhookd and a
	// database/sql handle on it for writing the old rows.
	open func(t *testing.T) (databaseURL string, db *sql.DB)
	args func(t *testing.T, databaseURL string) []string
}

var upgradeBackends = []upgradeBackend{
	{"embedded", "sqlite3", func(t *testing.T) (string, *sql.DB) {
		path := filepath.Join(t.TempDir(), "webhookd.db")
		// The time format webhookd's own connections write.
		db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_time_format=sqlite")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return "sqlite://" + path, db
	}, func(t *testing.T, databaseURL string) []string {
		return []string{"--database-url=" + databaseURL}
	}},
	{"postgres+redis", "postgres", func(t *testing.T) (string, *sql.DB) {
		databaseURL := testenv.PostgresURL(t)
		db, err := sql.Open("pgx", databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return databaseURL, db
	}, func(t *testing.T, databaseURL string) []string {
		return []string{"--database-url=" + databaseURL, "--redis-url=" + testenv.RedisURL(t),
			"--redis-prefix=" + testenv.RedisKeyPrefix(t)}
	}},
}

// TestUpgrade starts the current webhookd on databases that older webhookds
// left behind, with an account, its API key, an endpoint, an event and its
// delivered delivery written in the schema of the first migration:
//
//   - "at N": a webhookd of migration N (any of the embedded ones) made the
//     database, the rows written when it was at the first;
//   - "before versioned migrations": the schema Schema.Create made (the
//     first migration's tables, no revision table; TestMigrationsMatchSchemaCreate
//     in package store shows the two are the same).
//
// The rows must read back intact through the API, and the service must work
// on them: an event published to the old endpoint reaches a real receiver,
// signed with the old endpoint's secret.
func TestUpgrade(t *testing.T) {
	t.Parallel()
	for _, b := range upgradeBackends {
		dir, err := migrations.Dir(b.dialect)
		if err != nil {
			t.Fatal(err)
		}
		files, err := dir.Files()
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range files {
			t.Run(fmt.Sprintf("%s/at %d %s", b.name, i+1, f.Name()), func(t *testing.T) {
				t.Parallel()
				databaseURL, db := b.open(t)
				if err := store.Migrate(t.Context(), store.Config{DatabaseURL: databaseURL}, files[0].Version()); err != nil {
					t.Fatal(err)
				}
				old := writeFirstMigrationRows(t, db, b.dialect)
				if err := store.Migrate(t.Context(), store.Config{DatabaseURL: databaseURL}, f.Version()); err != nil {
					t.Fatal(err)
				}
				checkUpgraded(t, old, startService(t, b.args(t, databaseURL)...))
			})
		}
		t.Run(b.name+"/before versioned migrations", func(t *testing.T) {
			t.Parallel()
			databaseURL, db := b.open(t)
			stmts, err := files[0].Stmts()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range stmts {
				if _, err := db.ExecContext(t.Context(), s); err != nil {
					t.Fatal(err)
				}
			}
			old := writeFirstMigrationRows(t, db, b.dialect)
			checkUpgraded(t, old, startService(t, b.args(t, databaseURL)...))
			var baseline string
			if err := db.QueryRowContext(t.Context(), "SELECT version FROM atlas_schema_revisions WHERE type = 1").Scan(&baseline); err != nil || baseline != files[0].Version() {
				t.Fatalf("baseline revision %q, %v; want %s", baseline, err, files[0].Version())
			}
		})
	}
}

// oldRows are what writeFirstMigrationRows wrote.
type oldRows struct {
	account, token, endpoint, event, delivery string
	receiver                                  *guidereceiver.Receiver
}

// writeFirstMigrationRows writes, with the SQL of the first migration's
// schema (which never changes), the rows a customer of an older webhookd
// had: an account with an API key, an endpoint pointing at a running
// receiver (its secret in plaintext, as webhookds before encryption at rest
// stored it), an event and its delivery, delivered at the first attempt.
func writeFirstMigrationRows(t *testing.T, db *sql.DB, dialect string) oldRows {
	t.Helper()
	ids := webhookd.NewIDGenerator(nil)
	secret := webhookd.NewEndpointSecret()
	r := oldRows{
		account: ids.New(webhookd.PrefixAccount), token: "whk_upgrade-test-" + ids.New("t"),
		endpoint: ids.New(webhookd.PrefixEndpoint), event: ids.New(webhookd.PrefixEvent),
		delivery: ids.New(webhookd.PrefixDelivery),
		receiver: guidereceiver.Start(t, secret),
	}
	eventTypes, _ := json.Marshal([]string{"property.created"})
	now := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	for _, row := range []struct {
		query string
		args  []any
	}{
		{"INSERT INTO accounts (id, display_name, create_time, update_time) VALUES (?, ?, ?, ?)",
			[]any{r.account, "Acme Realty", now, now}},
		{"INSERT INTO api_keys (id, internal, display_name, token_hash, create_time, account_id) VALUES (?, ?, ?, ?, ?, ?)",
			[]any{ids.New(webhookd.PrefixAPIKey), false, "CRM sync", webhookd.HashAPIToken(r.token), now, r.account}},
		{"INSERT INTO endpoints (id, url, description, event_types, secret, create_time, update_time, account_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			[]any{r.endpoint, r.receiver.URL, "listings", string(eventTypes), secret, now, now, r.account}},
		{"INSERT INTO events (id, type, data, create_time, account_id) VALUES (?, ?, ?, ?, ?)",
			[]any{r.event, "property.created", []byte(`{"property_id":"prop_old"}`), now, r.account}},
		{"INSERT INTO deliveries (id, event_type, status, attempt_count, last_response_status, create_time, update_time, account_id, endpoint_id, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			[]any{r.delivery, "property.created", "succeeded", 1, 200, now, now, r.account, r.endpoint, r.event}},
		{"INSERT INTO attempts (id, number, trigger, start_time, duration_ns, response_status, response_body, delivery_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			[]any{ids.New(webhookd.PrefixAttempt), 1, "initial", now, int64(12 * time.Millisecond), 200, `{"received":true}`, r.delivery}},
	} {
		query := row.query
		if dialect == "postgres" {
			for n := 1; strings.Contains(query, "?"); n++ {
				query = strings.Replace(query, "?", fmt.Sprintf("$%d", n), 1)
			}
		}
		if _, err := db.ExecContext(t.Context(), query, row.args...); err != nil {
			t.Fatalf("%s: %v", row.query, err)
		}
	}
	return r
}

// checkUpgraded reads the old rows back through the API and publishes to
// the old endpoint.
func checkUpgraded(t *testing.T, old oldRows, s service) {
	t.Helper()
	acct, err := s.admin.GetAccount(s.ctx, &webhooksv1.GetAccountRequest{Name: "accounts/" + old.account})
	if err != nil || acct.GetDisplayName() != "Acme Realty" {
		t.Fatalf("GetAccount = %v, %v", acct, err)
	}
	// The old API key still authenticates its account.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+old.token)
	eps, err := s.ws.ListEndpoints(ctx, &webhooksv1.ListEndpointsRequest{})
	if err != nil || len(eps.GetEndpoints()) != 1 {
		t.Fatalf("ListEndpoints with the old key = %v, %v", eps, err)
	}
	ep := eps.GetEndpoints()[0]
	if ep.GetName() != "endpoints/"+old.endpoint || ep.GetUrl() != old.receiver.URL || ep.GetDescription() != "listings" ||
		strings.Join(ep.GetEventTypes(), ",") != "property.created" {
		t.Fatalf("the old endpoint reads back as %v", ep)
	}
	ev, err := s.ws.GetEvent(ctx, &webhooksv1.GetEventRequest{Name: "events/" + old.event})
	if err != nil || ev.GetType() != "property.created" || ev.GetData().GetFields()["property_id"].GetStringValue() != "prop_old" {
		t.Fatalf("GetEvent = %v, %v", ev, err)
	}
	list, err := s.ws.ListDeliveries(ctx, &webhooksv1.ListDeliveriesRequest{Parent: ev.GetName()})
	if err != nil || len(list.GetDeliveries()) != 1 {
		t.Fatalf("deliveries of the old event: %v, %v", list, err)
	}
	d, err := s.ws.GetDelivery(ctx, &webhooksv1.GetDeliveryRequest{Name: list.GetDeliveries()[0].GetName()})
	if err != nil || d.GetStatus() != webhooksv1.Delivery_SUCCEEDED || len(d.GetAttempts()) != 1 ||
		d.GetAttempts()[0].GetResponseStatusCode() != 200 || d.GetAttempts()[0].GetResponseBody() != `{"received":true}` {
		t.Fatalf("the old delivery reads back as %v, %v", d, err)
	}

	// The service works on the old rows: a new event reaches the old
	// endpoint's receiver, signed with its old secret, and is recorded.
	published, err := s.ws.PublishEvent(ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.created", Data: guideData(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := old.receiver.Next(t); !got.Verified() || "events/"+got.ID != published.GetName() {
		t.Fatalf("the receiver saw %+v for %s", got, published.GetName())
	}
	list, err = s.ws.ListDeliveries(ctx, &webhooksv1.ListDeliveriesRequest{Parent: published.GetName()})
	if err != nil || len(list.GetDeliveries()) != 1 {
		t.Fatalf("deliveries of the new event: %v, %v", list, err)
	}
	s.waitDelivery(t, ctx, list.GetDeliveries()[0].GetName(), func(d *webhooksv1.Delivery) bool {
		return d.GetStatus() == webhooksv1.Delivery_SUCCEEDED
	})
}
