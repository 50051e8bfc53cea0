package gcpaudit

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// TestGolden decodes each testdata/<case>/input.json and compares the events
// with want.json (go test -update rewrites it).
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
			got := []event.Event{}
			for i, r := range decodeAll(t, "input.json", readRecords(t, in)) {
				if r.err != nil && !isSkip(r.err) {
					t.Errorf("record %d: %v", i+1, r.err)
				}
				got = append(got, r.events...)
			}
			out, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join(dir, "want.json"), append(out, '\n'))
		})
	}
}
