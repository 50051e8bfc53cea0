package app

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"vaultwatch/internal/detect"
	"vaultwatch/internal/source"
	"vaultwatch/internal/store"
	"vaultwatch/internal/store/sqlite"
	"vaultwatch/internal/testutil"
)

func openStore(t testing.TB, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestPipelineCommitsBeforeDone feeds chunks with a bad record among good
// ones and checks that every Done comes after its events are in the store,
// with the counts and the problem's line.
func TestPipelineCommitsBeforeDone(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "vw.db"))
	p := newPipeline(nil, st, nil, nil)
	p.engine = detect.New(detect.Config{}, detect.Detectors(), p.emitAlert)
	in := make(chan source.Chunk)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.run(ctx, in) }()

	recs := testutil.AzureRecords(100, 1)
	results := make(chan source.Result, 2)
	done := func(r source.Result) {
		if r.Err == nil {
			// The events are committed before Done: the store has them.
			pg, err := st.Events(context.Background(), store.EventQuery{Limit: 1000})
			if err != nil || len(pg.Events) < r.Events {
				t.Errorf("Done before commit: %d events stored, err %v", len(pg.Events), err)
			}
		}
		results <- r
	}
	first := append(bytes.Join(recs[:50], []byte("\n")), '\n')
	second := append(append(bytes.Join(recs[50:], []byte("\n")), '\n'), "{broken\n"...)
	in <- source.Chunk{Source: "files", Origin: "a.json", Line: 1, Data: first, Cursor: source.Cursor{Key: "a", Value: "50"}, Done: done}
	in <- source.Chunk{Source: "files", Origin: "a.json", Line: 51, Data: second, Cursor: source.Cursor{Key: "a", Value: "101"}, Done: done}
	r1, r2 := wait(t, results), wait(t, results)
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if r1.Events+r2.Events != 100 || r2.Malformed != 1 {
		t.Fatalf("results %+v %+v: want 100 events and 1 malformed", r1, r2)
	}
	if len(r2.Problems) != 1 || !bytes.Contains([]byte(r2.Problems[0]), []byte("a.json:101")) {
		t.Errorf("problems %q: want one at a.json:101", r2.Problems)
	}
	cur, err := st.Cursors(context.Background(), "files")
	if err != nil || cur["a"] != "101" {
		t.Errorf("cursors %v, %v: want a=101", cur, err)
	}
	state, err := st.EngineState(context.Background())
	if err != nil || len(state) == 0 {
		t.Fatalf("no engine state saved at stop: %v", err)
	}
	e2 := detect.New(detect.Config{}, detect.Detectors(), nil)
	if err := e2.LoadState(bytes.NewReader(state)); err != nil {
		t.Fatalf("the saved state does not load: %v", err)
	}
}

func wait[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out")
	}
	var zero T
	return zero
}
