package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
)

// revisionStore keeps Atlas' record of applied migrations in revisionTable,
// read and written in the migration's own transaction, so that a file and
// its record commit together.
type revisionStore struct {
	tx   *sql.Tx
	kind backend
}

var _ atlasmigrate.RevisionReadWriter = (*revisionStore)(nil)

const revisionColumns = "version, description, type, applied, total, executed_at, execution_time, " +
	"error, error_stmt, hash, partial_hashes, operator_version"

func (r *revisionStore) createTable() string {
	if r.kind == backendPostgres {
		return `CREATE TABLE IF NOT EXISTS ` + revisionTable + ` (
	version character varying NOT NULL PRIMARY KEY,
	description character varying NOT NULL,
	type bigint NOT NULL DEFAULT 2,
	applied bigint NOT NULL DEFAULT 0,
	total bigint NOT NULL DEFAULT 0,
	executed_at timestamptz NOT NULL,
	execution_time bigint NOT NULL,
	error text NULL,
	error_stmt text NULL,
	hash character varying NOT NULL,
	partial_hashes jsonb NULL,
	operator_version character varying NOT NULL)`
	}
	return `CREATE TABLE IF NOT EXISTS ` + revisionTable + ` (
	version text NOT NULL PRIMARY KEY,
	description text NOT NULL,
	type integer NOT NULL DEFAULT 2,
	applied integer NOT NULL DEFAULT 0,
	total integer NOT NULL DEFAULT 0,
	executed_at datetime NOT NULL,
	execution_time integer NOT NULL,
	error text NULL,
	error_stmt text NULL,
	hash text NOT NULL,
	partial_hashes json NULL,
	operator_version text NOT NULL)`
}

// Ident names the table, which Atlas leaves out when it checks that a
// database is empty.
func (r *revisionStore) Ident() *atlasmigrate.TableIdent {
	return &atlasmigrate.TableIdent{Name: revisionTable}
}

// ReadRevisions returns every revision, oldest version first.
func (r *revisionStore) ReadRevisions(ctx context.Context) ([]*atlasmigrate.Revision, error) {
	rows, err := r.tx.QueryContext(ctx, "SELECT "+revisionColumns+" FROM "+revisionTable+" ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var revs []*atlasmigrate.Revision
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		revs = append(revs, rev)
	}
	return revs, rows.Err()
}

// ReadRevision returns the revision of version, or ErrRevisionNotExist.
func (r *revisionStore) ReadRevision(ctx context.Context, version string) (*atlasmigrate.Revision, error) {
	rows, err := r.tx.QueryContext(ctx, r.bind("SELECT "+revisionColumns+" FROM "+revisionTable+" WHERE version = ?"), version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, atlasmigrate.ErrRevisionNotExist
	}
	return scanRevision(rows)
}

// WriteRevision inserts the revision or updates the one of its version.
func (r *revisionStore) WriteRevision(ctx context.Context, rev *atlasmigrate.Revision) error {
	var partial any
	if len(rev.PartialHashes) > 0 {
		b, err := json.Marshal(rev.PartialHashes)
		if err != nil {
			return err
		}
		partial = string(b)
	}
	_, err := r.tx.ExecContext(ctx, r.bind("INSERT INTO "+revisionTable+" ("+revisionColumns+") "+
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (version) DO UPDATE SET "+
		"description = excluded.description, type = excluded.type, applied = excluded.applied, "+
		"total = excluded.total, executed_at = excluded.executed_at, execution_time = excluded.execution_time, "+
		"error = excluded.error, error_stmt = excluded.error_stmt, hash = excluded.hash, "+
		"partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version"),
		rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total, rev.ExecutedAt.UTC(),
		int64(rev.ExecutionTime), nullString(rev.Error), nullString(rev.ErrorStmt), rev.Hash, partial, rev.OperatorVersion)
	return err
}

// DeleteRevision removes the revision of version.
func (r *revisionStore) DeleteRevision(ctx context.Context, version string) error {
	_, err := r.tx.ExecContext(ctx, r.bind("DELETE FROM "+revisionTable+" WHERE version = ?"), version)
	return err
}

// bind numbers the ? placeholders of query for PostgreSQL ($1, $2, …).
func (r *revisionStore) bind(query string) string {
	if r.kind != backendPostgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func scanRevision(rows *sql.Rows) (*atlasmigrate.Revision, error) {
	var (
		rev              atlasmigrate.Revision
		typ, execNanos   int64
		executedAt       time.Time
		errText, errStmt sql.NullString
		partial          sql.NullString
	)
	if err := rows.Scan(&rev.Version, &rev.Description, &typ, &rev.Applied, &rev.Total, &executedAt,
		&execNanos, &errText, &errStmt, &rev.Hash, &partial, &rev.OperatorVersion); err != nil {
		return nil, err
	}
	rev.Type = atlasmigrate.RevisionType(typ)
	rev.ExecutedAt = executedAt
	rev.ExecutionTime = time.Duration(execNanos)
	rev.Error, rev.ErrorStmt = errText.String, errStmt.String
	if partial.Valid && partial.String != "" {
		if err := json.Unmarshal([]byte(partial.String), &rev.PartialHashes); err != nil {
			return nil, errors.Join(fmt.Errorf("%s %s: partial_hashes", revisionTable, rev.Version), err)
		}
	}
	return &rev, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
