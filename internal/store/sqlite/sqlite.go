// Package sqlite is the embedded implementation of store.Store: one SQLite
// file in WAL mode, written by one connection and read by a pool, so pages
// and API calls read while a source commits.
//
// The schema is created and upgraded by the migrations embedded in the
// binary, forward only, in one transaction at Open; the file records its
// schema version and a binary refuses a file newer than itself.
//
// The event index is built for a commit to touch few pages: its rows and
// indexes hold small integer ids of the strings (vault ids, callers,
// addresses, object names) kept once each in dictionary tables; the indexes
// by caller, address and object lead with a bucket of consecutive event ids,
// so that a batch adds to their ends; and the events' documents are stored
// compressed, a block of up to 64 per row.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"vaultwatch/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultPath is where the server keeps its database unless told otherwise.
const DefaultPath = "vaultwatch-data/vaultwatch.db"

// Options configure a DB. The zero value is usable.
type Options struct {
	// Retention is how long Prune keeps indexed events (default
	// store.DefaultRetention).
	Retention time.Duration
	// Readers is the number of read connections (default: the number of
	// CPUs, at least 2).
	Readers int
	// BusyTimeout is how long a connection waits for a lock another
	// process holds (default 10s).
	BusyTimeout time.Duration
}

// Memory the connections use.
const (
	mmapSize       = 256 << 20 // bytes of the file read through memory mapping
	writerCacheKiB = 64 << 10
	// checkpointPages is the size the WAL grows to before its pages are
	// copied into the database: larger, it copies a page changed by many
	// commits once.
	checkpointPages = 16384
	// walLimit is the size the WAL file is cut back to after a checkpoint.
	walLimit = 64 << 20
)

// DB is a store.Store in one SQLite file.
type DB struct {
	path      string
	retention time.Duration
	w         *sql.DB // one connection: every write
	r         *sql.DB // a pool of read-only connections

	insertEvent  *sql.Stmt // prepared on w
	insertEvents *sql.Stmt // chunkRows events, prepared on w
	insertDoc    *sql.Stmt // a block of documents, prepared on w
	codec        *codec

	stmtsMu    sync.Mutex
	stmts      map[string]*sql.Stmt // prepared on w, by query (see exec)
	unprepared map[string]bool      // run by exec, to prepare

	commitMu    sync.Mutex // one Commit at a time: it owns the dictionaries
	keys, names *dict
	nextID      int64 // the id of the next event, 0 when to be read

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*DB)(nil)

// Open opens the database at path, creating it and its folder when missing,
// and brings its schema up to date.
func Open(path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open store: no path: %w", store.ErrInvalid)
	}
	if strings.Contains(path, "?") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open store %s: a path may not hold '?' nor start with file: %w", path, store.ErrInvalid)
	}
	if opts.Retention <= 0 {
		opts.Retention = store.DefaultRetention
	}
	if opts.Readers <= 0 {
		opts.Readers = max(runtime.NumCPU(), 2)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	dsn := path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)" +
		"&_pragma=busy_timeout(" + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=mmap_size(" + strconv.Itoa(mmapSize) + ")&_pragma=temp_store(MEMORY)"

	// The writer keeps the indexes' hot pages cached: inserts touch one
	// page of each index per event.
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate&_pragma=cache_size(-"+strconv.Itoa(writerCacheKiB)+")"+
		"&_pragma=wal_autocheckpoint("+strconv.Itoa(checkpointPages)+")&_pragma=journal_size_limit("+strconv.Itoa(walLimit)+")")
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db := &DB{path: path, retention: opts.Retention, w: w,
		stmts: make(map[string]*sql.Stmt), unprepared: make(map[string]bool)}
	if err := migrate(context.Background(), w, migrations); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	db.r = r
	if err := r.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.insertEvent, err = w.Prepare(insertEventSQL)
	if err == nil {
		db.insertEvents, err = w.Prepare(insertEventsSQL)
	}
	if err == nil {
		db.insertDoc, err = w.Prepare(`INSERT INTO event_docs (id, n, data) VALUES (?, ?, ?)`)
	}
	if err == nil {
		db.codec, err = newCodec()
	}
	if err == nil {
		db.keys, err = newDict(w, "keys", true)
	}
	if err == nil {
		db.names, err = newDict(w, "names", false)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return db, nil
}

// Path returns the file the store is kept in.
func (db *DB) Path() string { return db.path }

// Close closes the database, first letting SQLite refresh the statistics
// its query planner uses. Closing again does nothing.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { db.closeErr = db.close() })
	return db.closeErr
}

func (db *DB) close() error {
	var errs []error
	if _, err := db.w.Exec(`PRAGMA optimize`); err != nil {
		errs = append(errs, fmt.Errorf("close store %s: %w", db.path, err))
	}
	db.codec.close()
	for _, st := range []*sql.Stmt{db.insertEvent, db.insertEvents, db.insertDoc} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, db.keys.close(), db.names.close())
	for _, st := range db.stmts {
		errs = append(errs, st.Close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	return errors.Join(errs...)
}

// SchemaVersion returns the version of the file's schema.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.r.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	return v, err
}

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the migrations of fsys, migrations/NNNN_what.sql
// numbered from 1 without gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := filepath.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_what.sql", base)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies the migrations the file lacks, all in one transaction.
func migrate(ctx context.Context, w *sql.DB, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	switch err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&current); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	case err != nil:
		return fmt.Errorf("migrate: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("migrate: the database has schema version %d, newer than this program's %d", current, len(ms))
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(ms)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return tx.Commit()
}

// ns converts t to what the database stores: UTC unix nanoseconds, 0 for
// the zero time.
func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// tm converts back what ns stored.
func tm(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// notFound wraps store.ErrNotFound.
func notFound(what, id string) error {
	return fmt.Errorf("%s %q: %w", what, id, store.ErrNotFound)
}
