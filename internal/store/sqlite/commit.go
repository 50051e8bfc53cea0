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
	"vaultwatch/internal/event"
	"vaultwatch/internal/store"
)

// Events are inserted chunkRows at a time, by one statement.
const (
	eventColumns    = 16
	chunkRows       = 64
	insertEventHead = `INSERT INTO events (t, vault_id, vault_name, provider, operation, class, outcome,
	object_kind, object_name, ip, principal, caller_name, object_id, upn, app_id, doc) VALUES `
	eventRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

var (
	insertEventSQL  = insertEventHead + eventRow
	insertEventsSQL = insertEventHead + eventRow + strings.Repeat(", "+eventRow, chunkRows-1)
)

// appendEventArgs appends the eventColumns values of an event's row to
// args, its document to docs.
func appendEventArgs(args []any, docs []byte, e *event.Event) ([]any, []byte) {
	n := len(docs)
	docs = e.AppendJSON(docs)
	var ip any
	if e.IP.IsValid() {
		ip = e.IP.String()
	}
	return append(args, ns(e.Time), e.Vault.ID, e.Vault.Name, string(e.Provider),
		e.Operation.Name, string(e.Operation.Class), string(e.Result.Outcome),
		nullable(string(e.Object.Kind)), nullable(e.Object.Name), ip,
		nullable(store.Principal(e)), nullable(callerName(&e.Caller)),
		nullable(e.Caller.ObjectID), nullable(e.Caller.UPN), nullable(e.Caller.AppID), docs[n:len(docs):len(docs)]), docs
}

// Commit writes b in one transaction.
func (db *DB) Commit(ctx context.Context, b *store.Batch) error {
	if b == nil {
		return nil
	}
	if len(b.Alerts) > 0 && b.Now.IsZero() {
		return fmt.Errorf("commit: a batch with alerts has no time (Now): %w", store.ErrInvalid)
	}
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO engine_state (id, data, saved_t) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET data = excluded.data, saved_t = excluded.saved_t`,
			b.State, ns(b.Now)); err != nil {
			return fmt.Errorf("commit: engine state: %w", err)
		}
	}
	for i, c := range b.Cursors {
		if c.Source == "" {
			return fmt.Errorf("commit: cursor %d (key %q) has no source: %w", i+1, c.Key, store.ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cursors (source, name, value) VALUES (?, ?, ?)
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
	vaults := make(map[string]*vaultCount)
	minutes := make(map[activityKey]*[2]int64)
	args := make([]any, 0, chunkRows*eventColumns)
	var docs []byte
	for start := 0; start < len(events); start += chunkRows {
		end := min(start+chunkRows, len(events))
		args, docs = args[:0], docs[:0]
		for i := start; i < end; i++ {
			args, docs = appendEventArgs(args, docs, &events[i])
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
	}
	for i := range events {
		e := &events[i]
		t := ns(e.Time)
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
	for k, m := range minutes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO activity (vault_id, minute, class, events, denials) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (vault_id, minute, class) DO UPDATE SET
				events = activity.events + excluded.events, denials = activity.denials + excluded.denials`,
			k.vault, k.minute, k.class, m[0], m[1]); err != nil {
			return fmt.Errorf("activity of %s: %w", k.vault, err)
		}
	}
	for id, v := range vaults {
		if _, err := tx.ExecContext(ctx, `INSERT INTO vaults (id, provider, name, first_t, last_t, events, denials)
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
	status, comment := store.StatusActive, ""
	if rule != "" {
		status, comment = store.StatusDismissed, "suppressed by rule "+rule
	}
	var was string
	existed := false
	switch err := tx.QueryRowContext(ctx, `SELECT suppressed_by FROM alerts WHERE id = ?`, a.ID).Scan(&was); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO alerts (id, type, severity, vault_id, start_t, end_t,
			status, version, created_t, updated_t, status_by, suppressed_by, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
			a.ID, string(a.Type), string(a.Severity), a.Vault.ID, ns(a.StartTime), ns(a.EndTime),
			string(status), now, now, store.SystemActor, rule, doc); err != nil {
			return fmt.Errorf("%s: %w", a.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_history (alert_id, status, actor, comment, at)
			VALUES (?, ?, ?, ?, ?)`, a.ID, string(status), store.SystemActor, comment, now); err != nil {
			return fmt.Errorf("%s: %w", a.ID, err)
		}
	case err != nil:
		return fmt.Errorf("%s: %w", a.ID, err)
	default:
		existed = true
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
