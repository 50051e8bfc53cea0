package hashivault

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"vaultwatch/internal/testutil"
)

// TestGolden decodes each testdata/<case>/input.json (a stream of audit
// entries) and compares the events with want.json. Regenerate with
// go test ./internal/auditlog/hashivault -update, then read the diff.
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
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out := decodeAll(t, "input.json", readRecords(t, in))
			if len(out.malformed) > 0 {
				t.Fatalf("malformed records: %s", strings.Join(out.malformed, "; "))
			}
			got, err := json.MarshalIndent(out.events, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join(dir, "want.json"), append(got, '\n'))
		})
	}
}
