package detect

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
	"vaultwatch/internal/intel"
	"vaultwatch/internal/testutil"
)

// testConfig is the engine configuration every scenario runs with: the
// threat intel and decoys under testdata.
func testConfig(t *testing.T) Config {
	t.Helper()
	set := intel.New()
	if err := set.LoadFile(filepath.Join("testdata", "tor.txt"), "tor"); err != nil {
		t.Fatal(err)
	}
	if err := set.LoadFile(filepath.Join("testdata", "reputation.txt"), "list"); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("testdata", "decoys.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := ParseDecoys(f, "decoys.txt")
	if err != nil {
		t.Fatal(err)
	}
	return Config{Intel: set, Decoys: d}
}

// readEvents reads a scenario's events.jsonl (events in their JSON form).
func readEvents(t *testing.T, path string) []event.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []event.Event
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var e event.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		evs = append(evs, e)
	}
	return evs
}

// TestScenarios runs each testdata/scenarios/<name>/events.jsonl through the
// engine with every detector and compares the alerts with
// want_alerts.json (go test -update rewrites it). Scenarios named benign-*
// must raise nothing.
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			var got []alert.Alert
			e := New(testConfig(t), Detectors(), func(a *alert.Alert) {
				// What detection decides; the catalogue's words, the id and
				// the playbook are the alert package's, tested there.
				a.ID, a.Title, a.Tactics, a.Technique, a.Remediation = "", "", nil, "", nil
				got = append(got, *a)
			})
			for _, ev := range readEvents(t, filepath.Join(dir, "events.jsonl")) {
				e.Process(&ev)
			}
			e.Flush()
			if got == nil {
				got = []alert.Alert{}
			}
			if len(name) > 7 && name[:7] == "benign-" && len(got) > 0 {
				t.Errorf("benign scenario raised %d alerts, first %s: %s", len(got), got[0].Type, got[0].Explanation)
			}
			b, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join(dir, "want_alerts.json"), append(b, '\n'))
		})
	}
}
