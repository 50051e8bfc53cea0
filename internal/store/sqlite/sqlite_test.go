package sqlite

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
	"vaultwatch/internal/store"
	"vaultwatch/internal/store/storetest"
)

func open(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "vaultwatch.db"))
	})
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "sub", "vaultwatch.db") // the folders are made
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	e := storetest.Ev(1, "kv", "al@x.com", "10.0.0.1")
	a := storetest.Alert("a1", "tor-access", alert.SeverityHigh, "kv", 1, 2, "10.0.0.1", "al@x.com")
	if err := db.Commit(ctx, &store.Batch{Events: []event.Event{e}, Alerts: []*alert.Alert{a}, State: []byte{1, 2, 3},
		Cursors: []store.Cursor{{Source: "s", Key: "k", Value: "v"}}, Now: storetest.T0()}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetStatus(ctx, "a1", store.StatusChange{Status: store.StatusResolved, By: "ann", At: storetest.T0()}, 1); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, store.User{Name: "ann", Role: store.RoleAdmin, CreatedAt: storetest.T0()}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateRule(ctx, store.Rule{ID: "r1", Author: "ann", CreatedAt: storetest.T0()}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 { // reopening twice: the migrations run once
		db = open(t, path)
		v, err := db.SchemaVersion(ctx)
		if err != nil || v != 3 { // 0001_init, 0002_outbox, 0003_callers_day
			t.Fatalf("schema version %d, %v", v, err)
		}
		p, err := db.Events(ctx, store.EventQuery{})
		if err != nil || len(p.Events) != 1 || !reflect.DeepEqual(p.Events[0], e) {
			t.Errorf("events after reopening: %+v, %v", p.Events, err)
		}
		r, err := db.Alert(ctx, "a1")
		if err != nil || r.Status != store.StatusResolved || r.Version != 2 {
			t.Errorf("alert after reopening: %+v, %v", r, err)
		}
		if h, _ := db.History(ctx, "a1"); len(h) != 2 {
			t.Errorf("history after reopening: %+v", h)
		}
		if st, _ := db.EngineState(ctx); !reflect.DeepEqual(st, []byte{1, 2, 3}) {
			t.Errorf("state after reopening: %v", st)
		}
		if c, _ := db.Cursors(ctx, "s"); c["k"] != "v" {
			t.Errorf("cursors after reopening: %v", c)
		}
		if _, err := db.User(ctx, "ann"); err != nil {
			t.Error(err)
		}
		if _, err := db.Rule(ctx, "r1"); err != nil {
			t.Error(err)
		}
		if v, _ := db.Vaults(ctx); len(v) != 1 || v[0].Events != 1 {
			t.Errorf("vaults after reopening: %+v", v)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("database file: %v, %v", fi, err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	db := open(t, path)
	if _, err := db.w.Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, Options{}); err == nil {
		t.Fatal("opened a database newer than the program")
	}
}

func TestOpenBadPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", filepath.Join(dir, "a?b.db"), "file:x.db", filepath.Join(file, "v.db")} {
		if db, err := Open(p, Options{}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
	notDB := filepath.Join(dir, "not.db")
	if err := os.WriteFile(notDB, []byte("this is not a database, not at all, no header here....................."), 0o600); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(notDB, Options{}); err == nil {
		db.Close()
		t.Error("opened a file that is not a database")
	}
}

func TestRetention(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "v.db"), Options{Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	var es []event.Event
	for i := range 10 {
		es = append(es, storetest.Ev(i*30, "kv", "", "10.0.0.1"))
	}
	if err := db.Commit(ctx, &store.Batch{Events: es}); err != nil {
		t.Fatal(err)
	}
	p, err := db.Prune(ctx, storetest.T0().Add(270*time.Minute)) // keeps 210 min on
	if err != nil || p.Events != 7 {
		t.Fatalf("pruned %+v, %v; want 7 events", p, err)
	}
}

func TestMigrations(t *testing.T) {
	ms, err := loadMigrations(migrations)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations %+v", ms)
	}

	path := filepath.Join(t.TempDir(), "m.db")
	w, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	ctx := t.Context()
	version := func() int {
		var v int
		if err := w.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	tables := func() (names []string) {
		rows, err := w.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name != 'schema_version' ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		return names
	}
	one := fstest.MapFS{"migrations/0001_a.sql": {Data: []byte(`CREATE TABLE a (x); INSERT INTO a VALUES (1);`)}}
	two := fstest.MapFS{"migrations/0002_b.sql": {Data: []byte(`CREATE TABLE b (y);`)}}
	maps.Copy(two, one)
	three := fstest.MapFS{"migrations/0003_c.sql": {Data: []byte(`CREATE TABLE c (z); CREATE TABLE nonsense (`)}}
	maps.Copy(three, two)

	for _, step := range []struct {
		fsys    fstest.MapFS
		wantErr bool
		version int
		tables  []string
	}{
		{one, false, 1, []string{"a"}},
		{one, false, 1, []string{"a"}}, // again: nothing to do
		{two, false, 2, []string{"a", "b"}},
		{three, true, 2, []string{"a", "b"}},                                     // a failing migration leaves nothing of itself
		{one, true, 2, []string{"a", "b"}},                                       // a database newer than the program is refused
		{fstest.MapFS{"migrations/0002_x.sql": {}}, true, 2, []string{"a", "b"}}, // a gap
	} {
		err := migrate(ctx, w, step.fsys)
		if (err != nil) != step.wantErr {
			t.Fatalf("migrate %v: error %v", slices.Collect(maps.Keys(step.fsys)), err)
		}
		if v := version(); v != step.version {
			t.Errorf("version %d, want %d", v, step.version)
		}
		if got := tables(); !slices.Equal(got, step.tables) {
			t.Errorf("tables %v, want %v", got, step.tables)
		}
	}
	var x int
	if err := w.QueryRow(`SELECT x FROM a`).Scan(&x); err != nil || x != 1 {
		t.Errorf("the first migration's data: %d, %v", x, err)
	}
}

func TestErrorsNameNoSecret(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "v.db"))
	ctx := t.Context()
	if err := db.CreateUser(ctx, store.User{Name: "ann", Role: store.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	s := store.Session{IDHash: "SECRET-HASH", User: "ann", ExpiresAt: storetest.T0()}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{db.CreateSession(ctx, s), func() error { _, err := db.Session(ctx, "SECRET-2"); return err }(),
		func() error { _, err := db.TokenByHash(ctx, "SECRET-3"); return err }()} {
		if err == nil || errors.Is(err, store.ErrInvalid) {
			t.Fatalf("got %v", err)
		}
		if msg := err.Error(); strings.Contains(msg, "SECRET") {
			t.Errorf("error names a hash: %s", msg)
		}
	}
}

// benchEvents makes n events like those of an organisation's busy Azure
// vaults: 12 vaults, 300 callers from 256 addresses, 200 secrets, each
// event's time a millisecond after the one before.
func benchEvents(n int) []event.Event {
	es := make([]event.Event, n)
	for i := range es {
		es[i] = event.Event{
			Time: storetest.T0().Add(time.Duration(i) * time.Millisecond), Provider: event.ProviderAzureKeyVault, Format: event.FormatAzureKeyVault,
			Vault:     event.Vault{ID: fmt.Sprintf("/subscriptions/6a1f/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv-%d", i%12), Name: fmt.Sprintf("kv-%d", i%12)},
			Operation: event.Operation{Name: "SecretGet", Class: event.ClassRead},
			Object:    event.Object{Kind: event.KindSecret, Name: fmt.Sprintf("secret-%d", i%200), Version: "0123456789abcdef0123456789abcdef"},
			Caller: event.Caller{Type: event.IdentityServicePrincipal, ObjectID: fmt.Sprintf("d4ba3e84-0444-4841-aaf7-%012d", i%300),
				AppID: "3686488a-04fc-4d8a-b967-61f98ec41efe", TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47"},
			IP:        netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}),
			UserAgent: "azsdk-net-Security.KeyVault.Secrets/4.5.0", CorrelationID: "1216de2d-b866-4950-983f-46775e7fe659",
			Result: event.Result{Outcome: event.OutcomeSuccess, Status: 200}, Source: event.Location{File: "PT1H.json", Line: int64(i + 1)},
		}
	}
	return es
}

// BenchmarkCommitEvents commits batches of 1,000 events with a cursor, as a
// source does: each batch a second of events after the one before.
func BenchmarkCommitEvents(b *testing.B) { benchCommit(b, time.Second) }

// BenchmarkCommitSameTimes commits the same 1,000 events again and again:
// their times interleave with every batch before, the worst case of the
// indexes that lead with the time.
func BenchmarkCommitSameTimes(b *testing.B) { benchCommit(b, 0) }

// benchCommit commits batches of 1,000 events with a cursor, moving their
// times on by step after each batch.
func benchCommit(b *testing.B, step time.Duration) {
	db := open(b, filepath.Join(b.TempDir(), "v.db"))
	es := benchEvents(1000)
	ctx := b.Context()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		if err := db.Commit(ctx, &store.Batch{Events: es, Now: storetest.T0(),
			Cursors: []store.Cursor{{Source: "bench", Key: "PT1H.json", Value: fmt.Sprint(n)}}}); err != nil {
			b.Fatal(err)
		}
		if step != 0 {
			for i := range es {
				es[i].Time = es[i].Time.Add(step)
			}
		}
	}
	b.ReportMetric(float64(n*len(es))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkEventsQuery reads a page of one caller's events out of 100,000.
func BenchmarkEventsQuery(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "v.db"))
	ctx := b.Context()
	es := benchEvents(1000)
	for range 100 {
		if err := db.Commit(ctx, &store.Batch{Events: es}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := db.Events(ctx, store.EventQuery{ObjectID: "d4ba3e84-0444-4841-aaf7-000000000007", Limit: 100})
		if err != nil || len(p.Events) != 100 {
			b.Fatal(len(p.Events), err)
		}
	}
}

// TestTopCallersHours checks the top callers counted partly by the hour
// against the events, for ranges that start and end inside hours, and after
// a prune that ends inside an hour.
func TestTopCallersHours(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "v.db"))
	ctx := t.Context()
	t0 := storetest.T0()
	var es []event.Event
	for i := range 600 {
		e := storetest.Ev((i*37)%300, fmt.Sprintf("kv-%d", i%2), fmt.Sprintf("u%d@x.com", i%7), "10.0.0.1")
		if i%11 == 0 {
			e.Result = event.Result{Outcome: event.OutcomeDenied, Status: 403}
		}
		es = append(es, e)
	}
	if err := db.Commit(ctx, &store.Batch{Events: es[:250]}); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, &store.Batch{Events: es[250:]}); err != nil {
		t.Fatal(err)
	}
	want := func(kept []event.Event, vault string, from, to time.Time) []store.CallerCount {
		by := map[string]*store.CallerCount{}
		for _, e := range kept {
			if e.Vault.ID != vault || e.Time.Before(from) || !e.Time.Before(to) {
				continue
			}
			p := store.Principal(&e)
			c := by[p]
			if c == nil {
				c = &store.CallerCount{Principal: p, Name: e.Caller.UPN}
				by[p] = c
			}
			c.Operations++
			if store.Denied(e.Result.Outcome) {
				c.Denials++
			}
			if e.Time.After(c.Last) {
				c.Last = e.Time
			}
		}
		var out []store.CallerCount
		for _, c := range by {
			out = append(out, *c)
		}
		slices.SortFunc(out, func(a, b store.CallerCount) int {
			return cmp.Or(cmp.Compare(b.Operations, a.Operations), strings.Compare(a.Principal, b.Principal))
		})
		return out[:min(len(out), 5)]
	}
	check := func(kept []event.Event, from, to time.Time) {
		t.Helper()
		vault := storetest.VaultID("kv-1")
		got, err := db.TopCallers(ctx, vault, from, to, 5)
		if err != nil {
			t.Fatal(err)
		}
		if w := want(kept, vault, from, to); !reflect.DeepEqual(got, w) {
			t.Errorf("top callers %s to %s\n got %+v\nwant %+v", from.Sub(t0), to.Sub(t0), got, w)
		}
	}
	for _, r := range [][2]int{{0, 300}, {17, 283}, {59, 61}, {61, 179}, {0, 60}, {45, 300}} {
		check(es, t0.Add(time.Duration(r[0])*time.Minute), t0.Add(time.Duration(r[1])*time.Minute))
	}
	before := t0.Add(130 * time.Minute)
	if _, err := db.PruneEvents(ctx, before); err != nil {
		t.Fatal(err)
	}
	var kept []event.Event
	for _, e := range es {
		if !e.Time.Before(before) {
			kept = append(kept, e)
		}
	}
	for _, r := range [][2]int{{0, 300}, {120, 180}, {125, 241}} {
		check(kept, t0.Add(time.Duration(r[0])*time.Minute), t0.Add(time.Duration(r[1])*time.Minute))
	}
}
