package filesink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"vaultwatch/internal/export"
	"vaultwatch/internal/export/exporttest"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newClock() *clock { return &clock{time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)} }

// readKeys returns the idempotency keys of the native records of a file.
func readKeys(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var env struct {
			Schema string `json:"schema"`
			Key    string `json:"idempotency_key"`
		}
		if err := json.Unmarshal(sc.Bytes(), &env); err != nil || env.Schema != export.NativeSchema {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		keys = append(keys, env.Key)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

func keysOf(recs []export.Record) []string {
	var out []string
	for i := range recs {
		out = append(out, recs[i].IdempotencyKey())
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSendAppendsAndSyncs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	s, err := New(Config{Name: "file", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	recs := exporttest.Stream(10)
	if err := s.Send(t.Context(), recs[:4]); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), recs[4:]); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	// Read while the sink is open: every acknowledged record is there.
	if got := readKeys(t, path); !equal(got, keysOf(recs)) {
		t.Errorf("file holds %v", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), recs[:1]); err == nil {
		t.Error("Send after Close succeeded")
	}
	// Reopened, it appends.
	s, err = New(Config{Name: "file", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Send(t.Context(), recs[:1]); err != nil {
		t.Fatal(err)
	}
	if got := readKeys(t, path); len(got) != 11 {
		t.Errorf("%d records after reopening, want 11", len(got))
	}
}

func TestTornLineRepairedAtOpen(t *testing.T) {
	tests := []struct {
		name string
		tail string // written after two whole records
	}{
		{"partial line", `{"schema":"vaultwatch.export/v1","kind":"al`},
		{"partial without any newline before", ""},
		{"whole", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "alerts.jsonl")
			recs := exporttest.Stream(3)
			var whole []byte
			for i := range recs[:2] {
				whole, _ = export.Native{}.Append(whole, &recs[i])
				whole = append(whole, '\n')
			}
			content := append(append([]byte(nil), whole...), tt.tail...)
			if tt.name == "partial without any newline before" {
				whole = nil
				content = bytes.Repeat([]byte("x"), 200<<10) // a torn line longer than a read chunk
			}
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := New(Config{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got, whole) {
				t.Fatalf("after open the file is %d bytes, want %d", len(got), len(whole))
			}
			if err := s.Send(t.Context(), recs[2:]); err != nil {
				t.Fatal(err)
			}
			want := keysOf(recs)
			if whole == nil {
				want = want[2:]
			}
			if keys := readKeys(t, path); !equal(keys, want) {
				t.Errorf("keys %v, want %v", keys, want)
			}
		})
	}
}

func TestRotateBySize(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.jsonl")
	clk := newClock()
	recs := exporttest.Stream(40)
	one, _ := export.Native{}.Append(nil, &recs[0])
	s, err := New(Config{Path: path, MaxSize: int64(3*len(one) + 10), MaxFiles: 3, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < len(recs); i += 2 {
		clk.t = clk.t.Add(time.Minute) // distinct names
		if err := s.Send(t.Context(), recs[i:i+2]); err != nil {
			t.Fatal(err)
		}
	}
	rotated, err := s.Rotated()
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated) != 3 {
		t.Fatalf("rotated files %v, want 3 kept", rotated)
	}
	// Every file holds whole batches, the newest records are in the
	// rotated files then the current one, in order.
	var keys []string
	for _, f := range append(rotated, path) {
		k := readKeys(t, f)
		if len(k)%2 != 0 {
			t.Errorf("%s holds %d records: a batch was split", f, len(k))
		}
		fi, _ := os.Stat(f)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", f, fi.Mode().Perm())
		}
		keys = append(keys, k...)
	}
	want := keysOf(recs)
	if !equal(keys, want[len(want)-len(keys):]) {
		t.Errorf("records out of order or lost: %v", keys)
	}
	if filepath.Base(rotated[0]) != "alerts-20261120T101800Z.jsonl" {
		t.Errorf("oldest kept %s", rotated[0])
	}
}

func TestRotateByAge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.jsonl")
	clk := newClock()
	s, err := New(Config{Path: path, MaxAge: time.Hour, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := exporttest.Stream(3)
	for i := range recs {
		if err := s.Send(t.Context(), recs[i:i+1]); err != nil {
			t.Fatal(err)
		}
		clk.t = clk.t.Add(40 * time.Minute)
	}
	rotated, _ := s.Rotated()
	if len(rotated) != 1 || filepath.Base(rotated[0]) != "alerts-20261120T112000Z.jsonl" {
		t.Fatalf("rotated %v", rotated)
	}
	if k := readKeys(t, rotated[0]); len(k) != 2 {
		t.Errorf("rotated file holds %d records, want 2", len(k))
	}
	if k := readKeys(t, path); len(k) != 1 {
		t.Errorf("current file holds %d records, want 1", len(k))
	}
}

type badFormat struct{ export.Native }

var errBad = errors.New("cannot encode")

func (badFormat) Append(dst []byte, r *export.Record) ([]byte, error) { return dst, errBad }

func TestPermanentOnBadRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	s, err := New(Config{Path: path, Format: badFormat{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Send(t.Context(), exporttest.Stream(1))
	if !errors.Is(err, export.ErrPermanent) || !errors.Is(err, errBad) {
		t.Errorf("Send: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Size() != 0 {
		t.Error("a failed batch left bytes")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Send(ctx, exporttest.Stream(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Send: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{MaxSize: -1, MaxAge: -1, MaxFiles: -1}
	err := c.Validate()
	for _, w := range []string{"path", "max_size", "max_age", "max_files"} {
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(w)) {
			t.Errorf("Validate: %v, want %s named", err, w)
		}
	}
	// A missing folder is made (owner only); a path under a file is not.
	dir := t.TempDir()
	s, err := New(Config{Path: filepath.Join(dir, "missing", "a.jsonl")})
	if err != nil {
		t.Fatalf("a file in a missing folder: %v", err)
	}
	s.Close()
	if fi, err := os.Stat(filepath.Join(dir, "missing")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the folder made: %v %v, want mode 0700", fi, err)
	}
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o600)
	if _, err := New(Config{Path: filepath.Join(dir, "file", "a.jsonl")}); err == nil {
		t.Error("a file under a file opened")
	}
}

func BenchmarkFileSink(b *testing.B) {
	for _, size := range []int{1, 100} {
		b.Run("batch="+itoa(size), func(b *testing.B) {
			s, err := New(Config{Path: filepath.Join(b.TempDir(), "a.jsonl"), MaxSize: 64 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			batch := exporttest.Stream(size)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := s.Send(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				n += size
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
