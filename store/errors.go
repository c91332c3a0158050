package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"entgo.io/ent/dialect/sql/sqlgraph"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
)

// This file turns database errors into webhookd.Error kinds. Messages name
// the resource only; the driver's error, which may quote SQL and values, is
// kept in Err so that it is logged but never shown to callers.

// classify maps an error of a database call made while doing something
// (a phrase for logs, "listing events") to a domain error.
func classify(err error, doing string) error {
	if err == nil {
		return nil
	}
	var domain *webhookd.Error
	if errors.As(err, &domain) {
		return err
	}
	cause := fmt.Errorf("%s: %w", doing, err)
	switch {
	case isUnavailable(err):
		return webhookd.Unavailable(unavailableMessage(err), cause)
	case sqlgraph.IsUniqueConstraintError(err):
		return &webhookd.Error{Kind: webhookd.KindConflict, Message: "resource already exists", Err: cause}
	case sqlgraph.IsForeignKeyConstraintError(err):
		return &webhookd.Error{Kind: webhookd.KindFailedPrecondition, Message: "a resource it refers to does not exist", Err: cause}
	}
	var invalid *ent.ValidationError
	if errors.As(err, &invalid) {
		return &webhookd.Error{Kind: webhookd.KindInvalid, Field: invalid.Name, Message: "invalid value", Err: cause}
	}
	return webhookd.Internal("database error", cause)
}

// classifyLookup is classify for reads and writes of one named resource:
// a missing row is webhookd.NotFound of that resource.
func classifyLookup(err error, doing, resource, id string) error {
	if ent.IsNotFound(err) {
		return notFound(resource, id, err)
	}
	return classify(err, doing)
}

// classifyInsert is classify for an insert of resource id belonging to
// parent parentID: a duplicate id is a Conflict naming it, and a missing
// parent (foreign-key violation) is NotFound of the parent.
func classifyInsert(err error, resource, id, parent, parentID string) error {
	switch {
	case err == nil:
		return nil
	case isUnavailable(err):
		return classify(err, "creating "+resource)
	case sqlgraph.IsUniqueConstraintError(err):
		return &webhookd.Error{Kind: webhookd.KindConflict, Message: fmt.Sprintf("%s %q already exists", resource, id), Err: err}
	case sqlgraph.IsForeignKeyConstraintError(err) && parent != "":
		return notFound(parent, parentID, err)
	}
	return classify(err, "creating "+resource)
}

func notFound(resource, id string, cause error) error {
	e := webhookd.NotFound(resource, id)
	e.Err = cause
	return e
}

// isUnavailable reports whether err means the database could not be reached
// or refused work for now, so that retrying later may succeed.
func isUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"),  // insufficient resources (too many connections, ...)
			strings.HasPrefix(pgErr.Code, "57P"), // operator intervention: shutdown, crash recovery
			pgErr.Code == "40001",                // serialization failure
			pgErr.Code == "40P01":                // deadlock detected
			return true
		}
		return false
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() & 0xff { // primary code; extended codes add high bits
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR:
			return true
		}
	}
	return false
}

// unavailableMessage says, in words safe to show to callers, why the
// database could not serve a call that isUnavailable failed.
func unavailableMessage(err error) string {
	const prefix = "database unavailable: "
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "57P"):
			return prefix + "it is shutting down or restarting; retry shortly"
		case strings.HasPrefix(pgErr.Code, "53"):
			return prefix + "it is out of resources (connections, memory or disk); retry shortly"
		case pgErr.Code == "40001" || pgErr.Code == "40P01":
			return prefix + "a concurrent change conflicted with this one; retry"
		}
	}
	var connectErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connectErr):
		return prefix + "cannot connect to it; retry shortly"
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return prefix + "it did not answer in time; retry shortly"
	case errors.Is(err, context.Canceled):
		return prefix + "the call was canceled"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return prefix + "the database file is busy or unreadable; retry shortly"
	}
	return prefix + "the connection to it failed; retry shortly"
}
