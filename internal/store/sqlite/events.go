package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
	"vaultwatch/internal/store"
)

// The id of a name, for a query's filters.
const nameID = `(SELECT id FROM names WHERE v = ?)`

// Events returns a page of indexed events, newest first.
//
// The indexes by address, principal, UPN and object lead with the event's
// bucket (consecutive ids, see bucketShift): a commit writes near the end of
// each of them instead of in one page per caller. A query through them reads
// the buckets that may hold events of its range, newest first, and merges
// their pages.
func (db *DB) Events(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	var page store.EventPage
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return page, fmt.Errorf("events: %w", err)
	}
	defer tx.Rollback()
	var (
		where    []string
		args     []any
		bucketed bool // a filter goes through a bucketed index
	)
	// key adds the filter col = the id of the key v; false when no event
	// has that key.
	key := func(col, v string, inBucket bool) (bool, error) {
		var id int64
		switch err := tx.QueryRowContext(ctx, `SELECT id FROM keys WHERE v = ?`, v).Scan(&id); {
		case errors.Is(err, sql.ErrNoRows):
			return false, nil
		case err != nil:
			return false, err
		}
		where = append(where, col+` = ?`)
		args = append(args, id)
		bucketed = bucketed || inBucket
		return true, nil
	}
	if q.Cursor != "" {
		// A bad cursor is the caller's mistake whatever the filters find.
		if _, _, err := parseCursor(q.Cursor); err != nil {
			return page, fmt.Errorf("events: %w", err)
		}
	}
	ip := q.IP
	if a, err := netip.ParseAddr(ip); err == nil {
		ip = a.String()
	}
	for _, f := range []struct {
		col, v   string
		inBucket bool
	}{
		{"ip", ip, true}, {"principal", q.ObjectID, true}, {"upn", q.UPN, true},
		{"app_id", q.AppID, false}, {"principal", q.Principal, true},
	} {
		if f.v == "" {
			continue
		}
		switch ok, err := key(f.col, f.v, f.inBucket); {
		case err != nil:
			return page, fmt.Errorf("events: %w", err)
		case !ok:
			return page, nil
		}
	}
	if q.ObjectID != "" {
		// event.Caller.Principal is the object id when there is one.
		where = append(where, `object_id = principal`)
	}
	if q.Vault != "" {
		where, args = append(where, `vault = `+nameID), append(args, q.Vault)
	}
	if q.Object != "" {
		where, args = append(where, `object = `+nameID), append(args, q.Object)
		bucketed = true
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.From.IsZero() {
		from = ns(q.From)
		where, args = append(where, `t >= ?`), append(args, from)
	}
	if !q.To.IsZero() {
		to = ns(q.To)
		where, args = append(where, `t < ?`), append(args, to)
	}
	if q.Cursor != "" {
		t, id, err := parseCursor(q.Cursor)
		if err != nil {
			return page, fmt.Errorf("events: %w", err)
		}
		where, args = append(where, `(t, id) < (?, ?)`), append(args, t, id)
		to = min(to, t+1)
	}
	n := limit(q.Limit)
	var hits []hit
	if bucketed || q.Vault == "" && q.AppID == "" {
		hits, err = bucketHits(ctx, tx, where, args, from, to, n+1)
	} else {
		hits, err = queryHits(ctx, tx, `SELECT id, t FROM events`+whereSQL(where)+` ORDER BY t DESC, id DESC LIMIT ?`, append(args, n+1))
	}
	if err != nil {
		return page, fmt.Errorf("events: %w", err)
	}
	if len(hits) > n {
		last := hits[n-1]
		page.Next = strconv.FormatInt(last.t, 36) + "." + strconv.FormatInt(last.id, 36)
		hits = hits[:n]
	}
	if page.Events, err = db.eventDocs(ctx, tx, hits); err != nil {
		return page, fmt.Errorf("events: %w", err)
	}
	return page, nil
}

// hit is an event a query found.
type hit struct{ id, t int64 }

// after reports whether a comes after b in the order of pages: newest
// first.
func (a hit) after(b hit) bool { return a.t < b.t || a.t == b.t && a.id < b.id }

func whereSQL(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

func queryHits(ctx context.Context, tx *sql.Tx, query string, args []any) ([]hit, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.id, &h.t); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// inBuckets selects the events of the buckets whose times overlap [?, ?):
// the indexes that lead with the bucket can be used for a time range.
const inBuckets = `bucket IN (SELECT bucket FROM event_buckets WHERE max_t >= ? AND min_t < ?)`

// bucketHits returns the first n events matching where, newest first,
// reading bucket after bucket: in the order of their newest events, until
// the next bucket's newest is older than the nth event found.
func bucketHits(ctx context.Context, tx *sql.Tx, where []string, args []any, from, to int64, n int) ([]hit, error) {
	rows, err := tx.QueryContext(ctx, `SELECT bucket, max_t FROM event_buckets WHERE max_t >= ? AND min_t < ? ORDER BY max_t DESC`, from, to)
	if err != nil {
		return nil, err
	}
	type span struct{ bucket, maxT int64 }
	var spans []span
	for rows.Next() {
		var s span
		if err := rows.Scan(&s.bucket, &s.maxT); err != nil {
			rows.Close()
			return nil, err
		}
		spans = append(spans, s)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	// The bucket for the indexes that lead with it, its ids for the others.
	query := `SELECT id, t FROM events` + whereSQL(append(slices.Clip(where), `bucket = ? AND id >= ? AND id < ?`)) +
		` ORDER BY t DESC, id DESC LIMIT ?`
	var out []hit
	for _, s := range spans {
		if len(out) >= n && s.maxT < out[n-1].t {
			break
		}
		hs, err := queryHits(ctx, tx, query, append(slices.Clip(args), s.bucket, s.bucket<<bucketShift, (s.bucket+1)<<bucketShift, n))
		if err != nil {
			return nil, err
		}
		out = mergeHits(out, hs, n)
	}
	return out, nil
}

// mergeHits merges two lists in page order and keeps the first n.
func mergeHits(a, b []hit, n int) []hit {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 || b[0].after(a[len(a)-1]) {
		return append(a, b...)[:min(len(a)+len(b), n)]
	}
	out := make([]hit, 0, min(len(a)+len(b), n))
	for len(out) < n && (len(a) > 0 || len(b) > 0) {
		if len(b) == 0 || len(a) > 0 && b[0].after(a[0]) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

// eventDocs reads the events of hits, in their order.
func (db *DB) eventDocs(ctx context.Context, tx *sql.Tx, hits []hit) ([]event.Event, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = strconv.FormatInt(h.id, 10)
	}
	// The vault id and object name, which the documents leave out, and the
	// block of each document.
	rows, err := tx.QueryContext(ctx, `SELECT e.id, v.v, o.v,
		(SELECT d.id FROM event_docs d WHERE d.id <= e.id ORDER BY d.id DESC LIMIT 1)
		FROM events e LEFT JOIN names v ON v.id = e.vault LEFT JOIN names o ON o.id = e.object
		WHERE e.id IN (`+strings.Join(ids, ",")+`)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type row struct {
		vault, object sql.NullString
		block         sql.NullInt64
	}
	found := make(map[int64]row, len(hits))
	for rows.Next() {
		var (
			id int64
			r  row
		)
		if err := rows.Scan(&id, &r.vault, &r.object, &r.block); err != nil {
			return nil, err
		}
		found[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	blocks := make(map[int64][][]byte)
	out := make([]event.Event, len(hits))
	for i, h := range hits {
		r, ok := found[h.id]
		if !ok || !r.block.Valid {
			return nil, fmt.Errorf("stored event %d: no document", h.id)
		}
		docs, ok := blocks[r.block.Int64]
		if !ok {
			var data []byte
			if err := tx.QueryRowContext(ctx, `SELECT data FROM event_docs WHERE id = ?`, r.block.Int64).Scan(&data); err != nil {
				return nil, fmt.Errorf("stored event %d: %w", h.id, err)
			}
			if docs, err = db.codec.docs(data); err != nil {
				return nil, fmt.Errorf("stored event %d: %w", h.id, err)
			}
			blocks[r.block.Int64] = docs
		}
		k := h.id - r.block.Int64
		if k >= int64(len(docs)) {
			return nil, fmt.Errorf("stored event %d: not in its block: %w", h.id, errBlock)
		}
		e := &out[i]
		if err := json.Unmarshal(docs[k], e); err != nil {
			return nil, fmt.Errorf("stored event %d: %w", h.id, err)
		}
		// What the document leaves out (see appendEventArgs).
		e.Vault.ID, e.Object.Name = r.vault.String, r.object.String
	}
	return out, nil
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

// PruneEvents removes the events before the given time, one bucket at a
// time so that readers and the writer are never held up long.
func (db *DB) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	var buckets []int64
	rows, err := db.w.QueryContext(ctx, `SELECT bucket FROM event_buckets WHERE min_t < ? ORDER BY bucket`, ns(before))
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	for rows.Next() {
		var b int64
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return 0, fmt.Errorf("prune events: %w", err)
		}
		buckets = append(buckets, b)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	var total, last int64 // last: the last id of the buckets pruned
	for _, b := range buckets {
		res, err := db.w.ExecContext(ctx, `DELETE FROM events WHERE id >= ? AND id < ? AND t < ?`,
			b<<bucketShift, (b+1)<<bucketShift, ns(before))
		if err != nil {
			return total, fmt.Errorf("prune events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune events: %w", err)
		}
		total += n
		last = (b+1)<<bucketShift - 1
	}
	if _, err := db.w.ExecContext(ctx, `DELETE FROM event_docs WHERE id <= ? AND NOT EXISTS
		(SELECT 1 FROM events e WHERE e.id >= event_docs.id AND e.id < event_docs.id + event_docs.n)`, last); err != nil {
		return total, fmt.Errorf("prune events: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, `DELETE FROM event_buckets WHERE max_t < ?`, ns(before)); err != nil {
		return total, fmt.Errorf("prune events: %w", err)
	}
	// The callers of the hours wholly before the cutoff, and those of the
	// hour it falls in counted again.
	hour := hourOf(ns(before))
	if _, err := db.w.ExecContext(ctx, `DELETE FROM callers WHERE hour < ?`, hour); err != nil {
		return total, fmt.Errorf("prune callers: %w", err)
	}
	if hour < ns(before) {
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return total, fmt.Errorf("prune callers: %w", err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `DELETE FROM callers WHERE hour = ?`, hour); err != nil {
			return total, fmt.Errorf("prune callers: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO callers (vault, hour, principal, events, denials, last_t, name)
			SELECT vault, ?, principal, count(*), sum(denied), max(t), max(caller_name) FROM events
			WHERE `+inBuckets+` AND t >= ? AND t < ? AND principal IS NOT NULL GROUP BY vault, principal`,
			hour, hour, hour+int64(time.Hour), hour, hour+int64(time.Hour)); err != nil {
			return total, fmt.Errorf("prune callers: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return total, fmt.Errorf("prune callers: %w", err)
		}
	}
	// The days wholly before the cutoff, and the day it falls in counted
	// again from its hours.
	const day = int64(24 * time.Hour)
	if d := hourOf(ns(before)) / day * day; d >= 0 {
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return total, fmt.Errorf("prune callers: %w", err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `DELETE FROM callers_day WHERE day <= ?`, d); err != nil {
			return total, fmt.Errorf("prune callers: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO callers_day (vault, day, principal, events, denials, last_t, name)
			SELECT vault, ?, principal, sum(events), sum(denials), max(last_t), max(name) FROM callers
			WHERE hour >= ? AND hour < ? GROUP BY vault, principal`, d, d, d+day); err != nil {
			return total, fmt.Errorf("prune callers: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return total, fmt.Errorf("prune callers: %w", err)
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
	rows, err = tx.QueryContext(ctx, `SELECT vault, severity, n FROM open_alerts WHERE n > 0`)
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

// TopCallers returns the busiest principals of a vault. The whole hours of
// the range are counted from the callers table, the rest from the events.
func (db *DB) TopCallers(ctx context.Context, vault string, from, to time.Time, n int) ([]store.CallerCount, error) {
	const cols = `principal, caller_name AS name, 1 AS ops, denied, t AS last`
	// events selects the events in [lo, hi) of the vault, or of every vault.
	events := func(lo, hi int64) (string, []any) {
		if vault != "" {
			return `SELECT ` + cols + ` FROM events WHERE principal IS NOT NULL AND vault = ` + nameID + ` AND t >= ? AND t < ?`,
				[]any{vault, lo, hi}
		}
		return `SELECT ` + cols + ` FROM events WHERE principal IS NOT NULL AND ` + inBuckets + ` AND t >= ? AND t < ?`,
			[]any{lo, hi, lo, hi}
	}
	var (
		query string
		args  []any
	)
	switch lo, hi := hourOf(ns(from)+int64(time.Hour)-1), hourOf(ns(to)); {
	case from.IsZero() || to.IsZero():
		var where []string
		if vault != "" {
			where, args = append(where, `vault = `+nameID), append(args, vault)
		}
		if !from.IsZero() {
			where, args = append(where, `t >= ?`), append(args, ns(from))
		}
		if !to.IsZero() {
			where, args = append(where, `t < ?`), append(args, ns(to))
		}
		query = `SELECT ` + cols + ` FROM events WHERE ` + strings.Join(append(where, `principal IS NOT NULL`), " AND ")
	case lo < hi:
		// [from, lo) and [hi, to) from the events; [lo, hi) from callers,
		// its whole UTC days [dlo, dhi) from callers_day.
		hours := func(a, b int64) (string, []any) {
			q, x := `SELECT principal, name, events AS ops, denials AS denied, last_t AS last FROM callers WHERE hour >= ? AND hour < ?`, []any{a, b}
			if vault != "" {
				q, x = q+` AND vault = `+nameID, append(x, vault)
			}
			return q, x
		}
		const day = int64(24 * time.Hour)
		dlo, dhi := (lo+day-1)/day*day, hi/day*day
		if lo < 0 || dlo >= dhi {
			query, args = hours(lo, hi)
		} else {
			query, args = `SELECT principal, name, events AS ops, denials AS denied, last_t AS last FROM callers_day WHERE day >= ? AND day < ?`, []any{dlo, dhi}
			if vault != "" {
				query, args = query+` AND vault = `+nameID, append(args, vault)
			}
			for _, r := range [][2]int64{{lo, dlo}, {dhi, hi}} {
				if r[0] < r[1] {
					q, a := hours(r[0], r[1])
					query, args = query+` UNION ALL `+q, append(args, a...)
				}
			}
		}
		for _, r := range [][2]int64{{ns(from), lo}, {hi, ns(to)}} {
			q, a := events(r[0], r[1])
			query, args = query+` UNION ALL `+q, append(args, a...)
		}
	default:
		query, args = events(ns(from), ns(to))
	}
	// Counted by principal id first: the strings are joined on the groups.
	rows, err := db.r.QueryContext(ctx, `SELECT k.v, n.v, c.ops, c.denied, c.last FROM
		(SELECT principal, max(name) AS name, sum(ops) AS ops, sum(denied) AS denied, max(last) AS last
			FROM (`+query+`) GROUP BY principal) c
		JOIN keys k ON k.id = c.principal LEFT JOIN names n ON n.id = c.name
		ORDER BY c.ops DESC, k.v LIMIT ?`, append(args, limit(n))...)
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
