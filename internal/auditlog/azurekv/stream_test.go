package azurekv_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/auditlog/azurekv"
	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// treeOnly hides the decoder's raw reader: the stream then parses every
// record with fastjson.
type treeOnly struct{ record.Decoder }

// counted counts the records the raw reader takes.
type counted struct {
	*azurekv.Decoder
	taken *int
}

func (c counted) DecodeRaw(rec []byte, loc event.Location, emit record.Emit) (bool, error) {
	ok, err := c.Decoder.DecodeRaw(rec, loc, emit)
	if ok {
		*c.taken++
	}
	return ok, err
}

// TestStreamRawMatchesTree reads one stream of mixed records (every golden
// record, synthetic Azure records between Vault audit entries so that the
// stream's format changes, malformed lines, a records wrapper, the Azure
// samples when present) with the reader's fast path and without it, and
// checks that events and counts are the same.
func TestStreamRawMatchesTree(t *testing.T) {
	var lines [][]byte
	inputs, err := filepath.Glob(filepath.Join("testdata", "*", "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		var recs []json.RawMessage
		if err := json.Unmarshal(b, &recs); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		for _, r := range recs {
			var buf bytes.Buffer
			if err := json.Compact(&buf, r); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, buf.Bytes())
		}
	}
	azure, vault := testutil.AzureRecords(300, 9), testutil.VaultEntries(100, 9)
	for i, r := range azure {
		lines = append(lines, r)
		if i%3 == 0 {
			lines = append(lines, vault[i/3])
		}
	}
	lines = append(lines,
		[]byte(`{"time":"2025-03-14T09:21:37Z","operationName":"SecretGet",`), // truncated
		[]byte("{\"time\":\"2025-03-14T09:21:37Z\",\"operationName\":\"Secret\xffGet\"}"),
		[]byte(`{"records":[`+string(azure[0])+`,`+string(azure[1])+`]}`),
		[]byte(`{"operationName":"SecretGet","category":"AuditEvent"}`),
		azure[2],
	)
	if b, err := os.ReadFile(filepath.Join(testutil.Root(t), "..", "shared", "samples",
		"azure-kv-auditevent-sekoia-intake-formats.records.DERIVED.jsonl")); err == nil {
		lines = append(lines, bytes.Split(bytes.TrimSpace(b), []byte("\n"))...)
	}

	read := func(formats []record.Format) ([]event.Event, *auditlog.Stats) {
		var events []event.Event
		stats := auditlog.NewStats()
		st := auditlog.NewStream(formats, stats, func(e *event.Event) { events = append(events, *e) })
		for i, line := range lines {
			st.Record(line, event.Location{File: "mixed.jsonl", Line: int64(i + 1)})
		}
		st.Flush()
		return events, stats
	}
	// with returns the formats, the Azure decoder made by newDecoder.
	with := func(newDecoder func() record.Decoder) []record.Format {
		formats := auditlog.Formats()
		for i, f := range formats {
			if f.Name == azurekv.Format.Name {
				formats[i].New = newDecoder
			}
		}
		return formats
	}
	taken := 0
	fast, fastStats := read(with(func() record.Decoder { return counted{azurekv.NewDecoder(), &taken} }))
	tree, treeStats := read(with(func() record.Decoder { return treeOnly{azurekv.NewDecoder()} }))
	if taken < 250 {
		t.Errorf("the raw reader took only %d records", taken)
	}

	if len(fast) < 300 {
		t.Fatalf("only %d events", len(fast))
	}
	if !reflect.DeepEqual(fast, tree) {
		t.Errorf("events differ: %d with the fast path, %d without", len(fast), len(tree))
		for i := range min(len(fast), len(tree)) {
			if !reflect.DeepEqual(fast[i], tree[i]) {
				t.Fatalf("first difference, event %d:\n%+v\n%+v", i, fast[i], tree[i])
			}
		}
	}
	if fastStats.Records.Load() != treeStats.Records.Load() || fastStats.Events != treeStats.Events ||
		fastStats.Malformed != treeStats.Malformed ||
		!reflect.DeepEqual(fastStats.ByFormat, treeStats.ByFormat) ||
		!reflect.DeepEqual(fastStats.ByVault, treeStats.ByVault) ||
		!reflect.DeepEqual(fastStats.Skipped, treeStats.Skipped) ||
		!reflect.DeepEqual(fastStats.Problems, treeStats.Problems) {
		t.Errorf("stats differ:\nfast %+v\ntree %+v", fastStats, treeStats)
	}
	if treeStats.Malformed == 0 || len(treeStats.Skipped) == 0 {
		t.Errorf("no malformed or skipped record in the stream: %+v", treeStats)
	}
}
