package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
	"vaultwatch/internal/store"
)

const deniedSQL = `outcome IN ('` + string(event.OutcomeDenied) + `', '` + string(event.OutcomeUnauthenticated) + `')`

// Events returns a page of indexed events, newest first.
func (db *DB) Events(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, a any) {
		where = append(where, cond)
		args = append(args, a)
	}
	if q.IP != "" {
		ip := q.IP
		if a, err := netip.ParseAddr(ip); err == nil {
			ip = a.String()
		}
		add(`ip = ?`, ip)
	}
	if q.ObjectID != "" {
		// event.Caller.Principal is the object id when there is one.
		where = append(where, `principal = ? AND object_id = ?`)
		args = append(args, q.ObjectID, q.ObjectID)
	}
	for _, f := range []struct{ col, v string }{
		{"upn", q.UPN}, {"app_id", q.AppID}, {"principal", q.Principal},
		{"vault_id", q.Vault}, {"object_name", q.Object},
	} {
		if f.v != "" {
			add(f.col+` = ?`, f.v)
		}
	}
	if !q.From.IsZero() {
		add(`t >= ?`, ns(q.From))
	}
	if !q.To.IsZero() {
		add(`t < ?`, ns(q.To))
	}
	if q.Cursor != "" {
		t, id, err := parseCursor(q.Cursor)
		if err != nil {
			return store.EventPage{}, fmt.Errorf("events: %w", err)
		}
		where = append(where, `(t, id) < (?, ?)`)
		args = append(args, t, id)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	n := limit(q.Limit)
	rows, err := db.r.QueryContext(ctx, `SELECT id, t, doc FROM events`+cond+` ORDER BY t DESC, id DESC LIMIT ?`,
		append(args, n+1)...)
	if err != nil {
		return store.EventPage{}, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	var (
		page   store.EventPage
		lastT  int64
		lastID int64
		doc    []byte
	)
	for rows.Next() {
		var id, t int64
		if err := rows.Scan(&id, &t, &doc); err != nil {
			return page, fmt.Errorf("events: %w", err)
		}
		if len(page.Events) == n {
			page.Next = strconv.FormatInt(lastT, 36) + "." + strconv.FormatInt(lastID, 36)
			break
		}
		var e event.Event
		if err := json.Unmarshal(doc, &e); err != nil {
			return page, fmt.Errorf("events: stored event %d: %w", id, err)
		}
		page.Events = append(page.Events, e)
		lastT, lastID = t, id
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("events: %w", err)
	}
	return page, nil
}

// parseCursor reads what Events wrote in EventPage.Next.
func parseCursor(s string) (t, id int64, err error) {
	a, b, ok := strings.Cut(s, ".")
	if ok {
		t, err = strconv.ParseInt(a, 36, 64)
		if err == nil {
			id, err = strconv.ParseInt(b, 36, 64)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("bad page cursor %q: %w", s, store.ErrInvalid)
	}
	return t, id, nil
}

// pruneChunk is how many events one delete removes, so that readers and
// the writer are never held up long.
const pruneChunk = 5000

// PruneEvents removes the events before the given time.
func (db *DB) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := db.w.ExecContext(ctx, `DELETE FROM events WHERE id IN
			(SELECT id FROM events WHERE t < ? ORDER BY t LIMIT ?)`, ns(before), pruneChunk)
		if err != nil {
			return total, fmt.Errorf("prune events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune events: %w", err)
		}
		total += n
		if n < pruneChunk {
			break
		}
	}
	// The minutes wholly before the cutoff.
	if _, err := db.w.ExecContext(ctx, `DELETE FROM activity WHERE minute <= ?`, ns(before)-int64(time.Minute)); err != nil {
		return total, fmt.Errorf("prune activity: %w", err)
	}
	return total, nil
}

// Prune removes the events older than the retention and the expired
// sessions.
func (db *DB) Prune(ctx context.Context, now time.Time) (store.Pruned, error) {
	var p store.Pruned
	var err error
	if p.Events, err = db.PruneEvents(ctx, now.Add(-db.retention)); err != nil {
		return p, err
	}
	res, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_t <= ?`, ns(now))
	if err != nil {
		return p, fmt.Errorf("prune sessions: %w", err)
	}
	p.Sessions, err = res.RowsAffected()
	return p, err
}

// Vaults returns the summary of every vault seen.
func (db *DB) Vaults(ctx context.Context) ([]store.VaultSummary, error) {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("vaults: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, provider, name, first_t, last_t, events, denials FROM vaults
		ORDER BY provider, name, id`)
	if err != nil {
		return nil, fmt.Errorf("vaults: %w", err)
	}
	defer rows.Close()
	var out []store.VaultSummary
	byID := make(map[string]int)
	for rows.Next() {
		var (
			v           store.VaultSummary
			provider    string
			first, last int64
		)
		if err := rows.Scan(&v.ID, &provider, &v.Name, &first, &last, &v.Events, &v.Denials); err != nil {
			return nil, fmt.Errorf("vaults: %w", err)
		}
		v.Provider, v.FirstEvent, v.LastEvent = event.Provider(provider), tm(first), tm(last)
		v.OpenAlerts = map[alert.Severity]int{}
		byID[v.ID] = len(out)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vaults: %w", err)
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, `SELECT e.value, a.severity, count(*) FROM alerts a
		JOIN alert_entities e ON e.alert_id = a.id AND e.kind = '`+kindVault+`'
		WHERE a.status IN (?, ?) AND a.suppressed_by = '' GROUP BY 1, 2`,
		string(store.StatusActive), string(store.StatusInProgress))
	if err != nil {
		return nil, fmt.Errorf("vaults: open alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, sev string
			n       int
		)
		if err := rows.Scan(&id, &sev, &n); err != nil {
			return nil, fmt.Errorf("vaults: open alerts: %w", err)
		}
		if i, ok := byID[id]; ok {
			out[i].OpenAlerts[alert.Severity(sev)] += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vaults: open alerts: %w", err)
	}
	return out, nil
}

// Activity counts a vault's events per bucket and class, from the counts
// kept per minute: an event counts in the bucket its minute starts in.
func (db *DB) Activity(ctx context.Context, vault string, from, to time.Time, bucket time.Duration) ([]store.ActivityPoint, error) {
	n, err := buckets(from, to, bucket)
	if err != nil {
		return nil, fmt.Errorf("activity of %q: %w", vault, err)
	}
	out := make([]store.ActivityPoint, n)
	for i := range out {
		out[i] = store.ActivityPoint{Start: from.Add(time.Duration(i) * bucket).UTC(), ByClass: map[event.Class]int64{}}
	}
	// The minutes that start in [from, to), and the one from falls in.
	first := minuteOf(ns(from))
	args := []any{first, int64(bucket), first, ns(to)}
	cond := ""
	if vault != "" {
		cond = ` AND vault_id = ?`
		args = append(args, vault)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT (minute - ?) / ?, class, sum(events), sum(denials) FROM activity
		WHERE minute >= ? AND minute < ?`+cond+` GROUP BY 1, 2`, args...)
	if err != nil {
		return nil, fmt.Errorf("activity of %q: %w", vault, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			i         int
			class     string
			c, denied int64
		)
		if err := rows.Scan(&i, &class, &c, &denied); err != nil {
			return nil, fmt.Errorf("activity of %q: %w", vault, err)
		}
		if i < 0 || i >= n {
			continue
		}
		p := &out[i]
		p.ByClass[event.Class(class)] += c
		p.Operations += c
		p.Denials += denied
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("activity of %q: %w", vault, err)
	}
	return out, nil
}

// TopCallers returns the busiest principals of a vault.
func (db *DB) TopCallers(ctx context.Context, vault string, from, to time.Time, n int) ([]store.CallerCount, error) {
	var (
		where = []string{`principal IS NOT NULL`}
		args  []any
	)
	if vault != "" {
		where = append(where, `vault_id = ?`)
		args = append(args, vault)
	}
	if !from.IsZero() {
		where = append(where, `t >= ?`)
		args = append(args, ns(from))
	}
	if !to.IsZero() {
		where = append(where, `t < ?`)
		args = append(args, ns(to))
	}
	rows, err := db.r.QueryContext(ctx, `SELECT principal, max(caller_name), count(*), sum(`+deniedSQL+`), max(t)
		FROM events WHERE `+strings.Join(where, " AND ")+`
		GROUP BY principal ORDER BY 3 DESC, 1 LIMIT ?`, append(args, limit(n))...)
	if err != nil {
		return nil, fmt.Errorf("top callers of %q: %w", vault, err)
	}
	defer rows.Close()
	var out []store.CallerCount
	for rows.Next() {
		var (
			c    store.CallerCount
			name sql.NullString
			last int64
		)
		if err := rows.Scan(&c.Principal, &name, &c.Operations, &c.Denials, &last); err != nil {
			return nil, fmt.Errorf("top callers of %q: %w", vault, err)
		}
		c.Name, c.Last = name.String, tm(last)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("top callers of %q: %w", vault, err)
	}
	return out, nil
}
