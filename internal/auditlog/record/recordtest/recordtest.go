// Package recordtest holds what the format decoders' tests share: splitting
// a fixture file into records the simple way, running a format's Detect and
// Decode over them, and the golden-file loop over testdata/<case>.
package recordtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// SplitRecords splits a file into its records independently of the
// product's scanner: a stream of JSON values (JSON Lines or pretty-printed
// objects), where an array contributes its elements and a {"Records":[...]}
// or {"records":[...]} wrapper its records.
func SplitRecords(tb testing.TB, data []byte) []json.RawMessage {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []json.RawMessage
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatalf("splitting records: %v", err)
		}
		switch raw[0] {
		case '[':
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil {
				tb.Fatal(err)
			}
			out = append(out, items...)
		case '{':
			var w struct {
				Records  []json.RawMessage `json:"Records"`
				Records2 []json.RawMessage `json:"records"`
			}
			switch err := json.Unmarshal(raw, &w); {
			case err == nil && w.Records != nil:
				out = append(out, w.Records...)
			case err == nil && w.Records2 != nil:
				out = append(out, w.Records2...)
			default:
				out = append(out, raw)
			}
		default:
			tb.Fatalf("unexpected JSON value starting with %q", raw[0])
		}
	}
}

// ReadRecords reads and splits a file.
func ReadRecords(tb testing.TB, path string) []json.RawMessage {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return SplitRecords(tb, data)
}

// Decoded is the outcome of decoding one record.
type Decoded struct {
	Events []event.Event
	Err    error // nil, a skip or a malformed-record error
}

// DecodeAll runs the format's Detect and Decode over records with one
// decoder, copying the events out, then flushes it: events a flush emits
// are added to the last record. Record i is located at line i+1 of file. A
// record that is not JSON or that Detect refuses fails the test.
func DecodeAll(tb testing.TB, f record.Format, file string, recs []json.RawMessage) []Decoded {
	tb.Helper()
	d := f.New()
	var p fastjson.Parser
	out := make([]Decoded, len(recs))
	for i, raw := range recs {
		v, err := p.ParseBytes(raw)
		if err != nil {
			tb.Fatalf("record %d: %v", i+1, err)
		}
		if !f.Detect(v) {
			tb.Errorf("record %d: Detect is false", i+1)
			continue
		}
		loc := event.Location{File: file, Line: int64(i + 1)}
		out[i].Err = d.Decode(v, loc, func(e *event.Event) {
			c := *e
			c.Caller.Policies = append([]string(nil), e.Caller.Policies...)
			out[i].Events = append(out[i].Events, c)
		})
	}
	if len(out) > 0 {
		last := &out[len(out)-1]
		d.Flush(func(e *event.Event) {
			c := *e
			c.Caller.Policies = append([]string(nil), e.Caller.Policies...)
			last.Events = append(last.Events, c)
		})
	}
	return out
}

// IsSkip reports whether err marks a skipped record.
func IsSkip(err error) bool {
	_, ok := record.IsSkip(err)
	return ok
}

// Golden decodes each testdata/<case>/input.json with the format and
// compares the events, as indented JSON, with want.json beside it
// (go test -update rewrites it). Skipped records are allowed; a malformed
// one fails the case.
func Golden(t *testing.T, f record.Format) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join("testdata", "*", "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no golden cases")
	}
	for _, in := range inputs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			got := []event.Event{}
			for i, r := range DecodeAll(t, f, "input.json", ReadRecords(t, in)) {
				if r.Err != nil && !IsSkip(r.Err) {
					t.Errorf("record %d: %v", i+1, r.Err)
				}
				got = append(got, r.Events...)
			}
			out, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join(dir, "want.json"), append(out, '\n'))
		})
	}
}

// Rejected checks that the format's decoder refuses rec, a record carrying
// the canary value CANARY: with a skip of reason wantSkip, or else with the
// malformed-record error wantErr; without emitting anything, and without
// quoting the canary in the error.
func Rejected(t *testing.T, f record.Format, rec, wantSkip, wantErr string) {
	t.Helper()
	v := fastjson.MustParse(rec)
	n := 0
	err := f.New().Decode(v, event.Location{}, func(*event.Event) { n++ })
	if err == nil {
		t.Fatalf("Decode succeeded with %d events", n)
	}
	if strings.Contains(err.Error(), "CANARY") {
		t.Errorf("error quotes a value: %v", err)
	}
	reason, skipped := record.IsSkip(err)
	switch {
	case wantSkip != "" && (!skipped || reason != wantSkip):
		t.Errorf("got %v, want skip %q", err, wantSkip)
	case wantErr != "" && (skipped || err.Error() != wantErr):
		t.Errorf("got %v, want %q", err, wantErr)
	}
	if n != 0 {
		t.Errorf("%d events emitted for a rejected record", n)
	}
}

// BenchDecode measures parsing (with a reused parser) and decoding rec, one
// record of the format that gives at least one event.
func BenchDecode(b *testing.B, f record.Format, rec []byte) {
	var p fastjson.Parser
	d := f.New()
	n := 0
	emit := func(*event.Event) { n++ }
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		v, err := p.ParseBytes(rec)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Decode(v, event.Location{}, emit); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("no event")
	}
}

// SamplesDir returns the shared samples folder, or "" when it is absent:
// for seeding fuzz targets, which run without it.
func SamplesDir(tb testing.TB) string {
	dir := os.Getenv("VAULTWATCH_SAMPLES")
	if dir == "" {
		dir = filepath.Join(testutil.Root(tb), "..", "shared", "samples")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	return dir
}
