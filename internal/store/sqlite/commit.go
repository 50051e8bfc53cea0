package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
	"vaultwatch/internal/store"
)

// bucketShift makes the buckets of the event index: the events with ids
// id>>bucketShift in common. Larger buckets make a query through a
// bucketed index read fewer of them, smaller ones a commit write fewer
// index pages.
const bucketShift = 13 // the 0001 migration's events.bucket

// Events are inserted chunkRows at a time, by one statement.
const (
	eventColumns    = 11
	chunkRows       = 64
	insertEventHead = `INSERT INTO events (id, t, vault, object, ip, principal, object_id, upn, app_id,
	caller_name, denied) VALUES `
	eventRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

var (
	insertEventSQL  = insertEventHead + eventRow
	insertEventsSQL = insertEventHead + eventRow + strings.Repeat(", "+eventRow, chunkRows-1)
)

// dicts are the dictionaries of a transaction, and the callers counted
// with their ids.
type dicts struct {
	keys, names *dictTx
	callers     map[callerKey]*callerCount
}

// callerKey is one row of the callers table.
type callerKey struct{ vault, hour, principal int64 }

type callerCount struct {
	events, denials, last int64
	name                  any // int64 or nil
}

// appendEventArgs appends the eventColumns values of an event's row to
// args, its document to docs.
func (d *dicts) appendEventArgs(args []any, docs []byte, id int64, e *event.Event) ([]any, []byte, error) {
	var ipText string
	if e.IP.IsValid() {
		ipText = e.IP.String()
	}
	var denied int64
	if store.Denied(e.Result.Outcome) {
		denied = 1
	}
	var (
		ids [8]any
		err error
	)
	for i, s := range []struct {
		d *dictTx
		v string
	}{
		{d.names, e.Vault.ID}, {d.names, e.Object.Name}, {d.keys, ipText}, {d.keys, store.Principal(e)},
		{d.keys, e.Caller.ObjectID}, {d.keys, e.Caller.UPN}, {d.keys, e.Caller.AppID}, {d.names, callerName(&e.Caller)},
	} {
		if ids[i], err = s.d.id(s.v); err != nil {
			return args, docs, err
		}
	}
	if ids[0] == nil {
		ids[0] = int64(0) // no vault
	}
	if p, ok := ids[3].(int64); ok {
		t := ns(e.Time)
		k := callerKey{ids[0].(int64), hourOf(t), p}
		c := d.callers[k]
		if c == nil {
			c = &callerCount{last: t}
			d.callers[k] = c
		}
		c.events += 1
		c.denials += denied
		c.last = max(c.last, t)
		if n, ok := ids[7].(int64); ok {
			if m, ok := c.name.(int64); !ok || n > m {
				c.name = n
			}
		}
	}
	// The document leaves out the vault id and the object name: the row
	// names them (see eventDocs).
	c := *e
	c.Vault.ID, c.Object.Name = "", ""
	docs = c.AppendJSON(docs)
	args = append(args, id, ns(e.Time))
	args = append(args, ids[:]...)
	return append(args, denied), docs, nil
}

// Commit writes b in one transaction.
func (db *DB) Commit(ctx context.Context, b *store.Batch) error {
	if b == nil {
		return nil
	}
	if len(b.Alerts) > 0 && b.Now.IsZero() {
		return fmt.Errorf("commit: a batch with alerts has no time (Now): %w", store.ErrInvalid)
	}
	db.commitMu.Lock()
	defer db.commitMu.Unlock()
	err := db.commit(ctx, b)
	if err != nil {
		// The caches may hold ids the rolled-back transaction added.
		db.keys.reset()
		db.names.reset()
		db.nextID = 0
	}
	db.prepare(ctx)
	return err
}

func (db *DB) commit(ctx context.Context, b *store.Batch) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	defer tx.Rollback()
	if err := db.commitEvents(ctx, tx, b.Events); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for i, a := range b.Alerts {
		if err := upsertAlert(ctx, tx, a, b); err != nil {
			return fmt.Errorf("commit: alert %d: %w", i+1, err)
		}
	}
	if b.State != nil {
		if _, err := db.exec(ctx, tx, `INSERT INTO engine_state (id, data, saved_t) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET data = excluded.data, saved_t = excluded.saved_t`,
			b.State, ns(b.Now)); err != nil {
			return fmt.Errorf("commit: engine state: %w", err)
		}
	}
	for i, c := range b.Cursors {
		if c.Source == "" {
			return fmt.Errorf("commit: cursor %d (key %q) has no source: %w", i+1, c.Key, store.ErrInvalid)
		}
		if _, err := db.exec(ctx, tx, `INSERT INTO cursors (source, name, value) VALUES (?, ?, ?)
			ON CONFLICT (source, name) DO UPDATE SET value = excluded.value`,
			c.Source, c.Key, c.Value); err != nil {
			return fmt.Errorf("commit: cursor %d (source %q, key %q): %w", i+1, c.Source, c.Key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// vaultCount is one vault's share of a batch.
type vaultCount struct {
	provider, name  string
	first, last     int64
	events, denials int64
}

func (db *DB) commitEvents(ctx context.Context, tx *sql.Tx, events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	one := tx.StmtContext(ctx, db.insertEvent)
	defer one.Close()
	many := tx.StmtContext(ctx, db.insertEvents)
	defer many.Close()
	d := dicts{keys: db.keys.in(ctx, tx), names: db.names.in(ctx, tx), callers: make(map[callerKey]*callerCount)}
	defer d.keys.close()
	defer d.names.close()
	if db.nextID == 0 {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM events`).Scan(&db.nextID); err != nil {
			return fmt.Errorf("next event id: %w", err)
		}
	}
	first := db.nextID
	db.nextID += int64(len(events))
	vaults := make(map[string]*vaultCount)
	minutes := make(map[activityKey]*[2]int64)
	spans := make(map[int64]*[2]int64) // bucket -> min, max time
	args := make([]any, 0, chunkRows*eventColumns)
	ends := make([]int, 0, chunkRows)
	addDoc := tx.StmtContext(ctx, db.insertDoc)
	defer addDoc.Close()
	var docs, raw, block []byte
	for start := 0; start < len(events); start += chunkRows {
		end := min(start+chunkRows, len(events))
		args, docs, ends = args[:0], docs[:0], ends[:0]
		for i := start; i < end; i++ {
			var err error
			if args, docs, err = d.appendEventArgs(args, docs, first+int64(i), &events[i]); err != nil {
				return fmt.Errorf("event %d (%s): %w", i+1, where(&events[i]), err)
			}
			ends = append(ends, len(docs))
		}
		if end-start == chunkRows {
			if _, err := many.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("events %d to %d (%s to %s): %w", start+1, end, where(&events[start]), where(&events[end-1]), err)
			}
		} else {
			for i := start; i < end; i++ {
				k := (i - start) * eventColumns
				if _, err := one.ExecContext(ctx, args[k:k+eventColumns]...); err != nil {
					return fmt.Errorf("event %d (%s): %w", i+1, where(&events[i]), err)
				}
			}
		}
		block, raw = db.codec.block(block[:0], raw, docs, ends)
		if _, err := addDoc.ExecContext(ctx, first+int64(start), end-start, block); err != nil {
			return fmt.Errorf("events %d to %d (%s to %s): %w", start+1, end, where(&events[start]), where(&events[end-1]), err)
		}
	}
	for i := range events {
		e := &events[i]
		t := ns(e.Time)
		b := (first + int64(i)) >> bucketShift
		if sp := spans[b]; sp == nil {
			spans[b] = &[2]int64{t, t}
		} else {
			sp[0], sp[1] = min(sp[0], t), max(sp[1], t)
		}
		if e.Vault.ID == "" {
			continue
		}
		v := vaults[e.Vault.ID]
		if v == nil {
			v = &vaultCount{provider: string(e.Provider), first: t, last: t}
			vaults[e.Vault.ID] = v
		}
		if e.Vault.Name != "" {
			v.name = e.Vault.Name
		}
		v.first, v.last = min(v.first, t), max(v.last, t)
		denied := store.Denied(e.Result.Outcome)
		v.events++
		k := activityKey{e.Vault.ID, minuteOf(t), string(e.Operation.Class)}
		m := minutes[k]
		if m == nil {
			m = new([2]int64)
			minutes[k] = m
		}
		m[0]++
		if denied {
			v.denials++
			m[1]++
		}
	}
	for b, sp := range spans {
		if _, err := db.exec(ctx, tx, `INSERT INTO event_buckets (bucket, min_t, max_t) VALUES (?, ?, ?)
			ON CONFLICT (bucket) DO UPDATE SET min_t = min(min_t, excluded.min_t), max_t = max(max_t, excluded.max_t)`,
			b, sp[0], sp[1]); err != nil {
			return fmt.Errorf("event bucket %d: %w", b, err)
		}
	}
	if err := db.addCallers(ctx, tx, d.callers); err != nil {
		return err
	}
	for k, m := range minutes {
		if _, err := db.exec(ctx, tx, `INSERT INTO activity (vault_id, minute, class, events, denials) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (vault_id, minute, class) DO UPDATE SET
				events = activity.events + excluded.events, denials = activity.denials + excluded.denials`,
			k.vault, k.minute, k.class, m[0], m[1]); err != nil {
			return fmt.Errorf("activity of %s: %w", k.vault, err)
		}
	}
	for id, v := range vaults {
		if _, err := db.exec(ctx, tx, `INSERT INTO vaults (id, provider, name, first_t, last_t, events, denials)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET
				provider = excluded.provider,
				name = CASE WHEN excluded.name != '' THEN excluded.name ELSE vaults.name END,
				first_t = min(vaults.first_t, excluded.first_t),
				last_t = max(vaults.last_t, excluded.last_t),
				events = vaults.events + excluded.events,
				denials = vaults.denials + excluded.denials`,
			id, v.provider, v.name, v.first, v.last, v.events, v.denials); err != nil {
			return fmt.Errorf("vault %s: %w", id, err)
		}
	}
	return nil
}

// activityKey is one row of the activity table.
type activityKey struct {
	vault  string
	minute int64
	class  string
}

// maxStmts bounds the statements exec keeps prepared.
const maxStmts = 256

// exec runs a statement of the writer in tx, prepared once and kept when
// it was run before: a commit runs the same few statements every time.
func (db *DB) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	db.stmtsMu.Lock()
	st, ok := db.stmts[query]
	if !ok && len(db.stmts)+len(db.unprepared) < maxStmts {
		db.unprepared[query] = true
	}
	db.stmtsMu.Unlock()
	if !ok {
		return tx.ExecContext(ctx, query, args...)
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

// prepare prepares the statements exec ran unprepared. The writer's one
// connection must be free: no transaction of the caller's open.
func (db *DB) prepare(ctx context.Context) {
	db.stmtsMu.Lock()
	defer db.stmtsMu.Unlock()
	for q := range db.unprepared {
		if st, err := db.w.PrepareContext(ctx, q); err == nil {
			db.stmts[q] = st
		}
		delete(db.unprepared, q)
	}
}

// callersRow is one row of the callers upsert.
const callersRow = `(?, ?, ?, ?, ?, ?, ?)`

// addCallers adds counts to the callers table, chunkRows rows a statement.
func (db *DB) addCallers(ctx context.Context, tx *sql.Tx, callers map[callerKey]*callerCount) error {
	args := make([]any, 0, chunkRows*7)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		rows := len(args) / 7
		_, err := db.exec(ctx, tx, `INSERT INTO callers (vault, hour, principal, events, denials, last_t, name) VALUES `+
			callersRow+strings.Repeat(", "+callersRow, rows-1)+`
			ON CONFLICT (vault, hour, principal) DO UPDATE SET events = callers.events + excluded.events,
				denials = callers.denials + excluded.denials, last_t = max(callers.last_t, excluded.last_t),
				name = coalesce(max(callers.name, excluded.name), callers.name, excluded.name)`, args...)
		if err == nil {
			// The same counts by day (the hour's start, floored to its day).
			_, err = db.exec(ctx, tx, `INSERT INTO callers_day (vault, day, principal, events, denials, last_t, name)
				SELECT column1, column2 - (column2 % 86400000000000), column3, column4, column5, column6, column7 FROM (VALUES `+
				callersRow+strings.Repeat(", "+callersRow, rows-1)+`) WHERE true
				ON CONFLICT (vault, day, principal) DO UPDATE SET events = callers_day.events + excluded.events,
					denials = callers_day.denials + excluded.denials, last_t = max(callers_day.last_t, excluded.last_t),
					name = coalesce(max(callers_day.name, excluded.name), callers_day.name, excluded.name)`, args...)
		}
		args = args[:0]
		if err != nil {
			return fmt.Errorf("callers: %w", err)
		}
		return nil
	}
	for k, c := range callers {
		args = append(args, k.vault, k.hour, k.principal, c.events, c.denials, c.last, c.name)
		if len(args) == cap(args) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// hourOf returns the start of the hour of a time in unix nanoseconds.
func hourOf(t int64) int64 {
	const h = int64(time.Hour)
	if t < 0 {
		return (t - h + 1) / h * h
	}
	return t / h * h
}

// minuteOf returns the start of the minute of a time in unix nanoseconds.
func minuteOf(t int64) int64 {
	const m = int64(time.Minute)
	if t < 0 {
		return (t - m + 1) / m * m
	}
	return t / m * m
}

// where names an event's origin for error messages.
func where(e *event.Event) string {
	switch {
	case e.Source.File != "":
		return fmt.Sprintf("%s:%d", e.Source.File, e.Source.Line)
	case e.Source.Source != "":
		return fmt.Sprintf("%s@%d", e.Source.Source, e.Source.Offset)
	}
	return e.Time.UTC().Format("2006-01-02T15:04:05.999999999Z")
}

// callerName is a readable name of the caller.
func callerName(c *event.Caller) string {
	for _, s := range []string{c.UPN, c.DisplayName, c.PrincipalEmail, c.ARN} {
		if s != "" {
			return s
		}
	}
	return ""
}

func upsertAlert(ctx context.Context, tx *sql.Tx, a *alert.Alert, b *store.Batch) error {
	if a == nil || a.ID == "" {
		return fmt.Errorf("no id: %w", store.ErrInvalid)
	}
	doc, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("%s: %w", a.ID, err)
	}
	now := ns(b.Now)
	rule := b.Suppressed[a.ID]
	// A silenced alert is stored dismissed, saying by which rule; never
	// deleted.
	newStatus, comment := store.StatusActive, ""
	if rule != "" {
		newStatus, comment = store.StatusDismissed, "suppressed by rule "+rule
	}
	var was, status, severity string
	existed := false
	switch err := tx.QueryRowContext(ctx, `SELECT suppressed_by, status, severity FROM alerts WHERE id = ?`, a.ID).Scan(&was, &status, &severity); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO alerts (id, type, severity, vault_id, start_t, end_t,
			status, version, created_t, updated_t, status_by, suppressed_by, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
			a.ID, string(a.Type), string(a.Severity), a.Vault.ID, ns(a.StartTime), ns(a.EndTime),
			string(newStatus), now, now, store.SystemActor, rule, doc); err != nil {
			return fmt.Errorf("%s: %w", a.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_history (alert_id, status, actor, comment, at)
			VALUES (?, ?, ?, ?, ?)`, a.ID, string(newStatus), store.SystemActor, comment, now); err != nil {
			return fmt.Errorf("%s: %w", a.ID, err)
		}
		status = string(newStatus)
	case err != nil:
		return fmt.Errorf("%s: %w", a.ID, err)
	default:
		existed = true
		if store.Status(status).Open() && was == "" {
			if err := countOpen(ctx, tx, a.ID, severity, -1); err != nil {
				return fmt.Errorf("%s: %w", a.ID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET type = ?, severity = ?, vault_id = ?, start_t = ?, end_t = ?,
			updated_t = ?, suppressed_by = CASE WHEN ? != '' THEN ? ELSE suppressed_by END, doc = ? WHERE id = ?`,
			string(a.Type), string(a.Severity), a.Vault.ID, ns(a.StartTime), ns(a.EndTime),
			now, rule, rule, doc, a.ID); err != nil {
			return fmt.Errorf("%s: %w", a.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_entities WHERE alert_id = ?`, a.ID); err != nil {
			return fmt.Errorf("%s: %w", a.ID, err)
		}
	}
	if rule != "" && was == "" && existed {
		// An alert a rule silences as it grows: dismissed if nobody has
		// taken it in hand yet.
		res, err := tx.ExecContext(ctx, `UPDATE alerts SET status = ?, version = version + 1, status_by = ?, updated_t = ?
			WHERE id = ? AND status = ?`, string(store.StatusDismissed), store.SystemActor, now, a.ID, string(store.StatusActive))
		if err != nil {
			return fmt.Errorf("%s: %w", a.ID, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO alert_history (alert_id, status, actor, comment, at)
				VALUES (?, ?, ?, ?, ?)`, a.ID, string(store.StatusDismissed), store.SystemActor, comment, now); err != nil {
				return fmt.Errorf("%s: %w", a.ID, err)
			}
			status = string(store.StatusDismissed)
		}
	}
	if rule != "" && rule != was {
		if _, err := tx.ExecContext(ctx, `UPDATE rules SET matches = matches + 1, matched_t = max(matched_t, ?) WHERE id = ?`,
			now, rule); err != nil {
			return fmt.Errorf("%s: rule %s: %w", a.ID, rule, err)
		}
	}
	for _, en := range alertEntities(a) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_entities (alert_id, kind, value) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, a.ID, en.kind, en.value); err != nil {
			return fmt.Errorf("%s: %w", a.ID, err)
		}
	}
	if store.Status(status).Open() && cmp.Or(rule, was) == "" {
		if err := countOpen(ctx, tx, a.ID, string(a.Severity), 1); err != nil {
			return fmt.Errorf("%s: %w", a.ID, err)
		}
	}
	return nil
}

// countOpen adds d to the open alerts of each vault an alert names, of the
// given severity.
func countOpen(ctx context.Context, tx *sql.Tx, id, severity string, d int) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO open_alerts (vault, severity, n)
		SELECT value, ?, ? FROM alert_entities WHERE alert_id = ? AND kind = '`+kindVault+`' AND true
		ON CONFLICT (vault, severity) DO UPDATE SET n = n + excluded.n`, severity, d, id); err != nil {
		return fmt.Errorf("open alerts: %w", err)
	}
	return nil
}

type entity struct{ kind, value string }

// Entity kinds of alert_entities.
const (
	kindVault     = "vault"
	kindIP        = "ip"
	kindObjectID  = "object_id"
	kindUPN       = "upn"
	kindAppID     = "app_id"
	kindPrincipal = "principal"
)

// alertEntities lists what the Entity and Vault filters match an alert by.
func alertEntities(a *alert.Alert) []entity {
	var out []entity
	add := func(kind string, values ...string) {
		for _, v := range values {
			if v != "" {
				out = append(out, entity{kind, v})
			}
		}
	}
	add(kindVault, a.Vault.ID)
	for _, v := range a.Vaults {
		add(kindVault, v.ID)
	}
	en := &a.Entities
	for _, ip := range en.IPs {
		add(kindIP, ip.Address)
	}
	add(kindObjectID, en.ObjectIDs...)
	add(kindUPN, en.UPNs...)
	add(kindAppID, en.AppIDs...)
	add(kindPrincipal, en.VaultEntities...)
	add(kindPrincipal, en.ARNs...)
	add(kindPrincipal, en.Principals...)
	add(kindPrincipal, en.TokenAccessors...)
	return out
}

// Cursors returns a source's cursors.
func (db *DB) Cursors(ctx context.Context, source string) (map[string]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, value FROM cursors WHERE source = ?`, source)
	if err != nil {
		return nil, fmt.Errorf("cursors of %s: %w", source, err)
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("cursors of %s: %w", source, err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cursors of %s: %w", source, err)
	}
	return out, nil
}

// EngineState returns the saved engine state, nil when none.
func (db *DB) EngineState(ctx context.Context) ([]byte, error) {
	var data []byte
	err := db.r.QueryRowContext(ctx, `SELECT data FROM engine_state WHERE id = 1`).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("engine state: %w", err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}
