package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/webhookd/webhookd"
)

func TestWithConnectTimeout(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"postgres://u@db:5432/webhookd", "postgres://u@db:5432/webhookd?connect_timeout=3"},
		{"postgres://u@db/webhookd?sslmode=disable", "postgres://u@db/webhookd?connect_timeout=3&sslmode=disable"},
		{"postgres://u@db/webhookd?connect_timeout=20", "postgres://u@db/webhookd?connect_timeout=20"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			if got := withConnectTimeout(c.in); got != c.want {
				t.Fatalf("withConnectTimeout(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestClassifyUnavailable checks that losing the database is
// KindUnavailable with a message that says so without the driver's text.
func TestClassifyUnavailable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"refused", &pgconn.ConnectError{}, "database unavailable: cannot connect to it; retry shortly"},
		{"shutdown", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"},
			"database unavailable: it is shutting down or restarting; retry shortly"},
		{"too many connections", &pgconn.PgError{Code: "53300"}, "database unavailable: it is out of resources (connections, memory or disk); retry shortly"},
		{"timeout", fmt.Errorf("querying: %w", context.DeadlineExceeded), "database unavailable: it did not answer in time; retry shortly"},
		{"connection lost", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), "database unavailable: the connection to it failed; retry shortly"},
		{"not an outage", &pgconn.PgError{Code: "23502"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := classify(c.err, "listing events")
			if c.want == "" { // not a connection failure
				if webhookd.KindOf(err) == webhookd.KindUnavailable {
					t.Fatalf("classify(%v) = %v, want not unavailable", c.err, err)
				}
				return
			}
			var de *webhookd.Error
			if !errors.As(err, &de) || de.Kind != webhookd.KindUnavailable || de.Message != c.want {
				t.Fatalf("classify(%v) = %#v, want unavailable %q", c.err, err, c.want)
			}
			if strings.Contains(de.Message, "administrator") {
				t.Fatalf("message %q quotes the driver", de.Message)
			}
		})
	}
}

// TestConnectTimeoutIsUnavailable connects to a server that accepts but
// never answers: the connect timeout must read as the database being
// unavailable (the API then answers UNAVAILABLE unless the caller's own
// deadline has passed, see server/errors.go).
func TestConnectTimeoutIsUnavailable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, silent
		}
	}()
	_, err = pgconn.Connect(context.Background(), "postgres://u@"+l.Addr().String()+"/db?sslmode=disable&connect_timeout=1")
	if err == nil {
		t.Fatal("connected to a silent server")
	}
	got := classify(err, "listing events")
	if webhookd.KindOf(got) != webhookd.KindUnavailable {
		t.Fatalf("classify(connect timeout) = %v; want unavailable", got)
	}
}
