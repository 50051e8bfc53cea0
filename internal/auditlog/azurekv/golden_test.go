package azurekv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// Record results other than an event, per golden case and record index.
const (
	wantSkip      = "skip"
	wantMalformed = "malformed"
)

// wantErrors lists the golden cases whose records do not all decode to an
// event; the records of every other case must.
var wantErrors = map[string][]string{
	"skip-other-logs": {wantSkip, wantSkip, wantSkip, wantSkip},
	// The call's start is skipped: the record of its end follows.
	"activity-diagnostic-settings": {wantSkip, "", "", "", "", "", "", wantSkip},
	"activity-skip-other":          {wantSkip, wantSkip, wantSkip, wantSkip},
	"malformed":                    {wantMalformed, wantMalformed, wantMalformed, wantMalformed, wantMalformed, wantMalformed, wantMalformed},
}

// readRecords reads a fixture: a JSON array of records.
func readRecords(t testing.TB, path string) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// decodeAll decodes records with one decoder, as a stream, and returns the
// events (copied) and each record's error.
func decodeAll(t testing.TB, recs []json.RawMessage) ([]event.Event, []error) {
	t.Helper()
	d := NewDecoder()
	var p fastjson.Parser
	events := []event.Event{}
	errs := make([]error, len(recs))
	for i, r := range recs {
		v, err := p.ParseBytes(r)
		if err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
		if !Detect(v) {
			t.Errorf("record %d: Detect is false", i+1)
		}
		loc := event.Location{File: "input.json", Line: int64(i + 1)}
		errs[i] = d.Decode(v, loc, func(e *event.Event) { events = append(events, *e) })
	}
	d.Flush(func(*event.Event) { t.Error("Flush emitted an event") })
	return events, errs
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*", "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no golden cases")
	}
	for _, in := range inputs {
		dir := filepath.Dir(in)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			recs := readRecords(t, in)
			events, errs := decodeAll(t, recs)
			want := wantErrors[name]
			for i, err := range errs {
				w := ""
				if want != nil {
					if len(want) != len(recs) {
						t.Fatalf("wantErrors lists %d records, input has %d", len(want), len(recs))
					}
					w = want[i]
				}
				_, skipped := record.IsSkip(err)
				switch {
				case w == "" && err != nil:
					t.Errorf("record %d: unexpected error: %v", i+1, err)
				case w == wantSkip && !skipped:
					t.Errorf("record %d: got %v, want a skip", i+1, err)
				case w == wantMalformed && (err == nil || skipped):
					t.Errorf("record %d: got %v, want a malformed-record error", i+1, err)
				}
			}
			for i := range events {
				checkInvariants(t, &events[i])
			}
			got, err := json.MarshalIndent(events, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join(dir, "want.json"), append(got, '\n'))
		})
	}
}

// checkInvariants checks what holds for every event the decoder emits.
func checkInvariants(t testing.TB, e *event.Event) {
	t.Helper()
	switch {
	case e.Time.IsZero() || e.Time.Location() != time.UTC:
		t.Errorf("time %v is zero or not UTC", e.Time)
	case e.Provider != event.ProviderAzureKeyVault || e.Format != event.FormatAzureKeyVault:
		t.Errorf("provider %q format %q", e.Provider, e.Format)
	case e.Vault.ID == "" || e.Vault.Name == "":
		t.Errorf("vault %+v has an empty field", e.Vault)
	case hasUpper(e.Vault.ID) || hasUpper(e.Vault.Name) || hasUpper(e.Object.Name) || hasUpper(e.Caller.ResourceID):
		t.Errorf("vault %+v, object %+v or resource id %q is not lower-case", e.Vault, e.Object, e.Caller.ResourceID)
	case e.Operation.Name == "" || e.Operation.Class == "":
		t.Errorf("operation %+v has an empty field", e.Operation)
	case e.Result.Outcome == "":
		t.Error("empty outcome")
	case e.Caller.Type == "":
		t.Error("empty caller type")
	case e.Object.Name != "" && e.Object.Kind == "":
		t.Errorf("object %+v has a name and no kind", e.Object)
	}
}

// hasUpper reports whether s holds an ASCII upper-case letter (names are
// lower-cased as ASCII: other bytes are kept as written).
func hasUpper(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' }) >= 0
}
