package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"vaultwatch/internal/store"
)

var (
	_ store.Feed   = (*DB)(nil)
	_ store.Outbox = (*DB)(nil)
)

// HistoryFeed implements store.Feed.
func (d *DB) HistoryFeed(ctx context.Context, afterSeq int64, limit int) ([]store.HistoryItem, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.r.QueryContext(ctx, `SELECT h.seq, h.alert_id, h.status, h.actor, h.comment, h.at,
		NOT EXISTS (SELECT 1 FROM alert_history p WHERE p.alert_id = h.alert_id AND p.seq < h.seq)
		FROM alert_history h WHERE h.seq > ? ORDER BY h.seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("history feed: %w", err)
	}
	var out []store.HistoryItem
	var ids []string
	for rows.Next() {
		var it store.HistoryItem
		var id, status string
		var at int64
		if err := rows.Scan(&it.Seq, &id, &status, &it.Change.By, &it.Change.Comment, &at, &it.First); err != nil {
			rows.Close()
			return nil, fmt.Errorf("history feed: %w", err)
		}
		it.Change.Status, it.Change.At = store.Status(status), time.Unix(0, at).UTC()
		out = append(out, it)
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history feed: %w", err)
	}
	for i, id := range ids {
		rec, err := d.Alert(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("history feed: %w", err)
		}
		out[i].Alert = rec
	}
	return out, nil
}

// GrowthFeed implements store.Feed.
func (d *DB) GrowthFeed(ctx context.Context, after store.GrowthCursor, limit int) ([]store.AlertRecord, store.GrowthCursor, error) {
	if limit <= 0 {
		limit = 100
	}
	t := after.T.UnixNano()
	if after.T.IsZero() {
		t = 0
	}
	rows, err := d.r.QueryContext(ctx, `SELECT a.id, a.updated_t, a.updated_t > a.created_t
		AND a.updated_t != coalesce((SELECT max(h.at) FROM alert_history h WHERE h.alert_id = a.id), 0)
		FROM alerts a WHERE a.updated_t > ? OR (a.updated_t = ? AND a.id > ?)
		ORDER BY a.updated_t, a.id LIMIT ?`, t, t, after.ID, limit)
	if err != nil {
		return nil, after, fmt.Errorf("growth feed: %w", err)
	}
	type row struct {
		id    string
		t     int64
		grown bool
	}
	var rs []row
	for rows.Next() {
		var x row
		if err := rows.Scan(&x.id, &x.t, &x.grown); err != nil {
			rows.Close()
			return nil, after, fmt.Errorf("growth feed: %w", err)
		}
		rs = append(rs, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("growth feed: %w", err)
	}
	var out []store.AlertRecord
	for _, x := range rs {
		after = store.GrowthCursor{T: time.Unix(0, x.t).UTC(), ID: x.id}
		if !x.grown {
			continue
		}
		rec, err := d.Alert(ctx, x.id)
		if err != nil {
			return nil, after, fmt.Errorf("growth feed: %w", err)
		}
		out = append(out, rec)
	}
	return out, after, nil
}

// Enqueue implements store.Outbox.
func (d *DB) Enqueue(ctx context.Context, items []store.OutboxItem, cursors []store.Cursor, state map[string][]byte) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	defer tx.Rollback()
	for _, it := range items {
		if it.ID == "" || it.Receiver == "" {
			return fmt.Errorf("enqueue: an item without id or receiver: %w", store.ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (id, receiver, doc, created_t, next_t, attempts, state)
			VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (id) DO NOTHING`,
			it.ID, it.Receiver, it.Doc, it.Created.UnixNano(), it.Next.UnixNano(), store.OutboxPending); err != nil {
			return fmt.Errorf("enqueue %s: %w", it.ID, err)
		}
	}
	for _, c := range cursors {
		if c.Source == "" {
			return fmt.Errorf("enqueue: a cursor without source: %w", store.ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cursors (source, name, value) VALUES (?, ?, ?)
			ON CONFLICT (source, name) DO UPDATE SET value = excluded.value`, c.Source, c.Key, c.Value); err != nil {
			return fmt.Errorf("enqueue: cursor: %w", err)
		}
	}
	for k, v := range state {
		if _, err := tx.ExecContext(ctx, `INSERT INTO kv (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
			return fmt.Errorf("enqueue: state: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	return nil
}

// Due implements store.Outbox.
func (d *DB) Due(ctx context.Context, now time.Time, limit int) ([]store.OutboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.r.QueryContext(ctx, `SELECT id, receiver, doc, created_t, next_t, attempts, state, last_error
		FROM outbox WHERE state = ? AND next_t <= ? ORDER BY next_t, created_t LIMIT ?`, store.OutboxPending, now.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	var out []store.OutboxItem
	for rows.Next() {
		var it store.OutboxItem
		var created, next int64
		if err := rows.Scan(&it.ID, &it.Receiver, &it.Doc, &created, &next, &it.Attempts, &it.State, &it.LastErr); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		it.Created, it.Next = time.Unix(0, created).UTC(), time.Unix(0, next).UTC()
		out = append(out, it)
	}
	return out, rows.Err()
}

// MarkOutbox implements store.Outbox.
func (d *DB) MarkOutbox(ctx context.Context, id, state string, attempts int, next time.Time, lastErr string, at time.Time) error {
	switch state {
	case store.OutboxPending, store.OutboxSent, store.OutboxFailed:
	default:
		return fmt.Errorf("outbox %s: state %q: %w", id, state, store.ErrInvalid)
	}
	done := int64(0)
	if state != store.OutboxPending {
		done = at.UnixNano()
	}
	res, err := d.w.ExecContext(ctx, `UPDATE outbox SET state = ?, attempts = ?, next_t = ?, last_error = ?, done_t = ? WHERE id = ?`,
		state, attempts, next.UnixNano(), lastErr, done, id)
	if err != nil {
		return fmt.Errorf("outbox %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("outbox %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// OutboxCounts implements store.Outbox.
func (d *DB) OutboxCounts(ctx context.Context) (map[string]int, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT state, count(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// State implements store.Outbox.
func (d *DB) State(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := d.r.QueryRowContext(ctx, `SELECT value FROM kv WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", key, err)
	}
	return v, nil
}
