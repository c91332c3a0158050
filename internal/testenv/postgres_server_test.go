package testenv_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/webhookd/webhookd/internal/testenv"
)

// TestPostgresServer stops and restarts a private cluster: the data
// survives, and while stopped the server refuses connections.
func TestPostgresServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartPostgresServer(t)
	db, err := sql.Open("pgx", s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err == nil {
		t.Fatal("Ping succeeded while the server was stopped")
	}
	s.Start(t)
	var v int
	if err := db.QueryRowContext(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after a restart: %d, %v; want 42", v, err)
	}
}
