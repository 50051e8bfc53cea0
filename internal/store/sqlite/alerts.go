package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/store"
)

const alertColumns = `id, status, version, created_t, updated_t, status_by, suppressed_by, doc`

// Page sizes.
const (
	defaultLimit = 100
	maxLimit     = 1000
	maxBuckets   = 10000
)

func limit(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}

type scanner interface{ Scan(...any) error }

// collect reads every row of rows with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanAlert(s scanner) (store.AlertRecord, error) {
	var (
		r                  store.AlertRecord
		id, status         string
		created, updated   int64
		doc                []byte
		statusBy, suppress string
	)
	if err := s.Scan(&id, &status, &r.Version, &created, &updated, &statusBy, &suppress, &doc); err != nil {
		return r, err
	}
	if err := json.Unmarshal(doc, &r.Alert); err != nil {
		return r, fmt.Errorf("alert %s: stored document: %w", id, err)
	}
	r.Status = store.Status(status)
	r.CreatedAt, r.UpdatedAt = tm(created), tm(updated)
	r.StatusBy, r.SuppressedBy = statusBy, suppress
	return r, nil
}

// Alert returns one alert.
func (db *DB) Alert(ctx context.Context, id string) (store.AlertRecord, error) {
	return getAlert(ctx, db.r, id)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getAlert(ctx context.Context, q querier, id string) (store.AlertRecord, error) {
	r, err := scanAlert(q.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("alert", id)
	}
	if err != nil {
		return r, fmt.Errorf("alert %s: %w", id, err)
	}
	return r, nil
}

// Alerts returns a page of alerts matching q.
func (db *DB) Alerts(ctx context.Context, q store.AlertQuery) (store.AlertPage, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if q.Vault != "" {
		add(`id IN (SELECT alert_id FROM alert_entities WHERE value = ? AND kind = '`+kindVault+`')`, q.Vault)
	}
	if q.Type != "" {
		add(`type = ?`, string(q.Type))
	}
	if q.Severity != "" {
		add(`severity = ?`, string(q.Severity))
	}
	if q.Status != "" {
		if !q.Status.Valid() {
			return store.AlertPage{}, fmt.Errorf("alerts: unknown status %q: %w", q.Status, store.ErrInvalid)
		}
		add(`status = ?`, string(q.Status))
	}
	if q.Entity != "" {
		add(`id IN (SELECT alert_id FROM alert_entities WHERE value = ? AND kind != '`+kindVault+`')`, q.Entity)
	}
	if !q.From.IsZero() {
		add(`end_t >= ?`, ns(q.From))
	}
	if !q.To.IsZero() {
		add(`start_t < ?`, ns(q.To))
	}
	if q.SuppressedBy != "" {
		add(`suppressed_by = ?`, q.SuppressedBy)
	}
	if q.Unsuppressed {
		add(`suppressed_by = ''`)
	}
	if q.Offset < 0 {
		return store.AlertPage{}, fmt.Errorf("alerts: negative offset %d: %w", q.Offset, store.ErrInvalid)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.AlertPage{}, fmt.Errorf("alerts: %w", err)
	}
	defer tx.Rollback()
	var page store.AlertPage
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM alerts`+cond, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("alerts: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts`+cond+
		` ORDER BY start_t DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit(q.Limit), q.Offset)...)
	if err != nil {
		return page, fmt.Errorf("alerts: %w", err)
	}
	if page.Alerts, err = collect(rows, scanAlert); err != nil {
		return page, fmt.Errorf("alerts: %w", err)
	}
	return page, nil
}

// SetStatus changes an alert's status.
func (db *DB) SetStatus(ctx context.Context, id string, c store.StatusChange, ifVersion int) (store.AlertRecord, error) {
	if !c.Status.Valid() {
		return store.AlertRecord{}, fmt.Errorf("alert %s: unknown status %q: %w", id, c.Status, store.ErrInvalid)
	}
	if c.By == "" || c.At.IsZero() {
		return store.AlertRecord{}, fmt.Errorf("alert %s: a status change needs who (By) and when (At): %w", id, store.ErrInvalid)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return store.AlertRecord{}, fmt.Errorf("alert %s: %w", id, err)
	}
	defer tx.Rollback()
	var (
		version            int
		was, severity, sup string
	)
	switch err := tx.QueryRowContext(ctx, `SELECT version, status, severity, suppressed_by FROM alerts WHERE id = ?`, id).Scan(&version, &was, &severity, &sup); {
	case errors.Is(err, sql.ErrNoRows):
		return store.AlertRecord{}, notFound("alert", id)
	case err != nil:
		return store.AlertRecord{}, fmt.Errorf("alert %s: %w", id, err)
	}
	if ifVersion != 0 && version != ifVersion {
		return store.AlertRecord{}, fmt.Errorf("alert %s is at version %d, not %d: %w", id, version, ifVersion, store.ErrConflict)
	}
	at := ns(c.At)
	if _, err := tx.ExecContext(ctx, `UPDATE alerts SET status = ?, version = version + 1, updated_t = ?, status_by = ? WHERE id = ?`,
		string(c.Status), at, c.By, id); err != nil {
		return store.AlertRecord{}, fmt.Errorf("alert %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO alert_history (alert_id, status, actor, comment, at) VALUES (?, ?, ?, ?, ?)`,
		id, string(c.Status), c.By, c.Comment, at); err != nil {
		return store.AlertRecord{}, fmt.Errorf("alert %s: %w", id, err)
	}
	if sup == "" && store.Status(was).Open() != c.Status.Open() {
		d := 1
		if !c.Status.Open() {
			d = -1
		}
		if err := countOpen(ctx, tx, id, severity, d); err != nil {
			return store.AlertRecord{}, fmt.Errorf("alert %s: %w", id, err)
		}
	}
	r, err := getAlert(ctx, tx, id)
	if err != nil {
		return r, err
	}
	if err := tx.Commit(); err != nil {
		return store.AlertRecord{}, fmt.Errorf("alert %s: %w", id, err)
	}
	return r, nil
}

// History returns an alert's status changes, oldest first.
func (db *DB) History(ctx context.Context, id string) ([]store.StatusChange, error) {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("history of alert %s: %w", id, err)
	}
	defer tx.Rollback()
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM alerts WHERE id = ?`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("alert", id)
	} else if err != nil {
		return nil, fmt.Errorf("history of alert %s: %w", id, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT status, actor, comment, at FROM alert_history WHERE alert_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("history of alert %s: %w", id, err)
	}
	defer rows.Close()
	var out []store.StatusChange
	for rows.Next() {
		var (
			c      store.StatusChange
			status string
			at     int64
		)
		if err := rows.Scan(&status, &c.By, &c.Comment, &at); err != nil {
			return nil, fmt.Errorf("history of alert %s: %w", id, err)
		}
		c.Status, c.At = store.Status(status), tm(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of alert %s: %w", id, err)
	}
	return out, nil
}

// buckets checks a bucketed range and returns the number of buckets.
func buckets(from, to time.Time, bucket time.Duration) (int, error) {
	if bucket <= 0 || from.IsZero() || !to.After(from) {
		return 0, fmt.Errorf("range %s to %s by %s: need from < to and a positive bucket: %w",
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), bucket, store.ErrInvalid)
	}
	n := (to.Sub(from) + bucket - 1) / bucket
	if n > maxBuckets {
		return 0, fmt.Errorf("range %s to %s by %s: %d buckets, more than %d: %w",
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), bucket, n, maxBuckets, store.ErrInvalid)
	}
	return int(n), nil
}

// AlertCounts counts alerts started per bucket, by severity.
func (db *DB) AlertCounts(ctx context.Context, from, to time.Time, bucket time.Duration) ([]store.CountPoint, error) {
	n, err := buckets(from, to, bucket)
	if err != nil {
		return nil, fmt.Errorf("alert counts: %w", err)
	}
	out := make([]store.CountPoint, n)
	for i := range out {
		out[i] = store.CountPoint{Start: from.Add(time.Duration(i) * bucket).UTC(), BySeverity: map[alert.Severity]int{}}
	}
	rows, err := db.r.QueryContext(ctx, `SELECT (start_t - ?) / ?, severity, count(*) FROM alerts
		WHERE start_t >= ? AND start_t < ? GROUP BY 1, 2`,
		ns(from), int64(bucket), ns(from), ns(to))
	if err != nil {
		return nil, fmt.Errorf("alert counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			i   int
			sev string
			c   int
		)
		if err := rows.Scan(&i, &sev, &c); err != nil {
			return nil, fmt.Errorf("alert counts: %w", err)
		}
		if i < 0 || i >= n {
			continue
		}
		out[i].BySeverity[alert.Severity(sev)] += c
		out[i].Total += c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert counts: %w", err)
	}
	return out, nil
}
