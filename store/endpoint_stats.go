package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/webhookd/webhookd"
)

// statsChunk bounds the endpoints one pair of statements covers, and so
// their size and parameter count.
const statsChunk = 100

// endpointStatsQueries are the two statements of EndpointStats, built here
// so that the query-plan tests explain exactly what runs. Both are ranges of
// the deliveries index (endpoint_id, status, update_time): the counts read
// the entries since a time, the latest errors one entry per endpoint and
// status, whatever the number of deliveries.
func (s *entStore) endpointStatsQueries(ids []string, since time.Time) (counts string, countArgs []any, latest string, latestArgs []any) {
	in := make([]string, len(ids))
	for i, id := range ids {
		in[i] = "?"
		countArgs = append(countArgs, id)
	}
	counts = s.paths.rebind(`SELECT endpoint_id, status, COUNT(*) FROM deliveries WHERE endpoint_id IN (` + strings.Join(in, ", ") +
		`) AND status IN ('succeeded', 'failed') AND update_time >= ? GROUP BY endpoint_id, status`)
	countArgs = append(countArgs, dbTime(since))

	parts := make([]string, 0, 2*len(ids))
	for i, id := range ids {
		// A failed delivery's error, and a pending one's that is being
		// retried after an error (a fresh one has none yet).
		for j, cond := range []string{`status = 'failed'`, `status = 'pending' AND last_error <> ''`} {
			parts = append(parts, fmt.Sprintf(`SELECT * FROM (SELECT endpoint_id, last_error, update_time FROM deliveries `+
				`WHERE endpoint_id = ? AND %s ORDER BY update_time DESC LIMIT 1) AS e%d_%d`, cond, i, j))
			latestArgs = append(latestArgs, id)
		}
	}
	latest = s.paths.rebind(strings.Join(parts, " UNION ALL "))
	return counts, countArgs, latest, latestArgs
}

func (s *entStore) EndpointStats(ctx context.Context, ids []string, since time.Time) (map[string]*webhookd.EndpointStats, error) {
	out := map[string]*webhookd.EndpointStats{}
	of := func(id string) *webhookd.EndpointStats {
		st := out[id]
		if st == nil {
			st = &webhookd.EndpointStats{}
			out[id] = st
		}
		return st
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), statsChunk)]
		ids = ids[len(chunk):]
		counts, countArgs, latest, latestArgs := s.endpointStatsQueries(chunk, since)
		rows, err := s.db.QueryContext(ctx, counts, countArgs...)
		if err != nil {
			return nil, classify(err, "counting deliveries")
		}
		for rows.Next() {
			var id, status string
			var n int64
			if err := rows.Scan(&id, &status, &n); err != nil {
				_ = rows.Close()
				return nil, classify(err, "counting deliveries")
			}
			if status == "succeeded" {
				of(id).Succeeded = n
			} else {
				of(id).Failed = n
			}
		}
		if err := closeRows(rows); err != nil {
			return nil, classify(err, "counting deliveries")
		}
		rows, err = s.db.QueryContext(ctx, latest, latestArgs...)
		if err != nil {
			return nil, classify(err, "finding the latest errors")
		}
		for rows.Next() {
			var id, msg string
			var at time.Time
			if err := rows.Scan(&id, &msg, &at); err != nil {
				_ = rows.Close()
				return nil, classify(err, "finding the latest errors")
			}
			if st := of(id); at.After(st.LastErrorTime) {
				st.LastError, st.LastErrorTime = msg, at.UTC()
			}
		}
		if err := closeRows(rows); err != nil {
			return nil, classify(err, "finding the latest errors")
		}
	}
	return out, nil
}

// closeRows reports an error that ended the iteration, or closing's.
func closeRows(rows interface {
	Err() error
	Close() error
}) error {
	if err := rows.Err(); err != nil {
		_ = rows.Close()
		return err
	}
	return rows.Close()
}
