package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/store"
)

const ruleColumns = `id, version, type, matchers, reason, comment, author, starts_t, ends_t, disabled,
	created_t, updated_t, matched_t, matches`

func scanRule(s scanner) (store.Rule, error) {
	var (
		r                                   store.Rule
		typ, matchers                       string
		starts, ends, created, upd, matched int64
	)
	if err := s.Scan(&r.ID, &r.Version, &typ, &matchers, &r.Reason, &r.Comment, &r.Author, &starts, &ends,
		&r.Disabled, &created, &upd, &matched, &r.Matches); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(matchers), &r.Matchers); err != nil {
		return r, fmt.Errorf("rule %s: stored matchers: %w", r.ID, err)
	}
	r.Type = alert.Type(typ)
	r.StartsAt, r.EndsAt, r.CreatedAt, r.UpdatedAt, r.LastMatched = tm(starts), tm(ends), tm(created), tm(upd), tm(matched)
	return r, nil
}

func matchersJSON(r *store.Rule) (string, error) {
	ms := r.Matchers
	if ms == nil {
		ms = []store.Matcher{}
	}
	b, err := json.Marshal(ms)
	return string(b), err
}

// CreateRule adds a suppression rule.
func (db *DB) CreateRule(ctx context.Context, r store.Rule) (store.Rule, error) {
	if err := r.Validate(); err != nil {
		return store.Rule{}, fmt.Errorf("rule %q: %w", r.ID, err)
	}
	if r.ID == "" {
		var b [8]byte
		rand.Read(b[:])
		r.ID = hex.EncodeToString(b[:])
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	r.Version = 1
	ms, err := matchersJSON(&r)
	if err != nil {
		return store.Rule{}, fmt.Errorf("rule %q: %w", r.ID, err)
	}
	res, err := db.w.ExecContext(ctx, `INSERT INTO rules (`+ruleColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0) ON CONFLICT DO NOTHING`,
		r.ID, r.Version, string(r.Type), ms, r.Reason, r.Comment, r.Author, ns(r.StartsAt), ns(r.EndsAt),
		b2i(r.Disabled), ns(r.CreatedAt), ns(r.UpdatedAt))
	if err := exists(res, err, "rule", r.ID); err != nil {
		return store.Rule{}, err
	}
	return db.Rule(ctx, r.ID)
}

// Rule returns a rule by id.
func (db *DB) Rule(ctx context.Context, id string) (store.Rule, error) {
	return getRule(ctx, db.r, id)
}

func getRule(ctx context.Context, q querier, id string) (store.Rule, error) {
	r, err := scanRule(q.QueryRowContext(ctx, `SELECT `+ruleColumns+` FROM rules WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Rule{}, notFound("rule", id)
	}
	if err != nil {
		return store.Rule{}, fmt.Errorf("rule %q: %w", id, err)
	}
	return r, nil
}

// Rules returns every rule, newest first.
func (db *DB) Rules(ctx context.Context) ([]store.Rule, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+ruleColumns+` FROM rules ORDER BY created_t DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	out, err := collect(rows, scanRule)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return out, nil
}

// UpdateRule replaces a rule's definition.
func (db *DB) UpdateRule(ctx context.Context, r store.Rule, ifVersion int) (store.Rule, error) {
	if err := r.Validate(); err != nil {
		return store.Rule{}, fmt.Errorf("rule %q: %w", r.ID, err)
	}
	ms, err := matchersJSON(&r)
	if err != nil {
		return store.Rule{}, fmt.Errorf("rule %q: %w", r.ID, err)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return store.Rule{}, fmt.Errorf("rule %q: %w", r.ID, err)
	}
	defer tx.Rollback()
	var version int
	switch err := tx.QueryRowContext(ctx, `SELECT version FROM rules WHERE id = ?`, r.ID).Scan(&version); {
	case errors.Is(err, sql.ErrNoRows):
		return store.Rule{}, notFound("rule", r.ID)
	case err != nil:
		return store.Rule{}, fmt.Errorf("rule %q: %w", r.ID, err)
	}
	if ifVersion != 0 && version != ifVersion {
		return store.Rule{}, fmt.Errorf("rule %q is at version %d, not %d: %w", r.ID, version, ifVersion, store.ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE rules SET version = version + 1, type = ?, matchers = ?, reason = ?, comment = ?,
		author = ?, starts_t = ?, ends_t = ?, disabled = ?, updated_t = ? WHERE id = ?`,
		string(r.Type), ms, r.Reason, r.Comment, r.Author, ns(r.StartsAt), ns(r.EndsAt), b2i(r.Disabled),
		ns(r.UpdatedAt), r.ID); err != nil {
		return store.Rule{}, fmt.Errorf("rule %q: %w", r.ID, err)
	}
	out, err := getRule(ctx, tx, r.ID)
	if err != nil {
		return out, err
	}
	if err := tx.Commit(); err != nil {
		return store.Rule{}, fmt.Errorf("rule %q: %w", r.ID, err)
	}
	return out, nil
}
