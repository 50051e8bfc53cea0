package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// maxCached bounds the strings a dictionary caches; past it the cache
// starts afresh.
const maxCached = 1 << 20

// dict maps the strings of a dictionary table (keys or names) to their ids
// for the writer, caching what it has seen. It is used by one transaction at
// a time (under DB.commitMu).
type dict struct {
	table string
	fold  bool // the table matches ignoring ASCII case
	ids   map[string]int64

	get, add *sql.Stmt // prepared on the writer
}

func newDict(w *sql.DB, table string, fold bool) (*dict, error) {
	d := &dict{table: table, fold: fold, ids: make(map[string]int64)}
	var err error
	if d.get, err = w.Prepare(`SELECT id FROM ` + table + ` WHERE v = ?`); err != nil {
		return nil, fmt.Errorf("dictionary %s: %w", table, err)
	}
	if d.add, err = w.Prepare(`INSERT INTO ` + table + ` (v) VALUES (?) RETURNING id`); err != nil {
		d.get.Close()
		return nil, fmt.Errorf("dictionary %s: %w", table, err)
	}
	return d, nil
}

func (d *dict) close() error {
	if d == nil {
		return nil
	}
	return errors.Join(d.get.Close(), d.add.Close())
}

// reset forgets the cache: after a rolled-back transaction it may name ids
// that were never committed.
func (d *dict) reset() { clear(d.ids) }

// dictTx is a dict bound to a transaction.
type dictTx struct {
	*dict
	ctx      context.Context
	get, add *sql.Stmt
}

func (d *dict) in(ctx context.Context, tx *sql.Tx) *dictTx {
	return &dictTx{dict: d, ctx: ctx, get: tx.StmtContext(ctx, d.get), add: tx.StmtContext(ctx, d.add)}
}

func (t *dictTx) close() { t.get.Close(); t.add.Close() }

// id returns the id of s, adding it to the table on first sight; nil for "".
func (t *dictTx) id(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	k := s
	if t.fold {
		k = asciiLower(s)
	}
	if id, ok := t.ids[k]; ok {
		return id, nil
	}
	var id int64
	err := t.get.QueryRowContext(t.ctx, s).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = t.add.QueryRowContext(t.ctx, s).Scan(&id)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", t.table, s, err)
	}
	if len(t.ids) >= maxCached {
		clear(t.ids)
	}
	if k == s {
		k = strings.Clone(s) // s may share memory with a larger buffer
	}
	t.ids[k] = id
	return id, nil
}

// asciiLower returns s with ASCII letters lower-cased, as SQLite's NOCASE
// compares; s itself when it has no upper-case letter.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
