package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/detect"
	"vaultwatch/internal/simulate"
	"vaultwatch/internal/testutil"
)

// splitByDay copies the Azure blob folders of a simulation's logs into one
// folder per day (DIR/DD/...), keeping their paths, and returns the day
// folders in order.
func splitByDay(t *testing.T, logs, dir string) []string {
	t.Helper()
	day := regexp.MustCompile(`/d=(\d\d)/`)
	days := map[string]bool{}
	err := filepath.WalkDir(logs, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(logs, p)
		if err != nil {
			return err
		}
		m := day.FindStringSubmatch(filepath.ToSlash(p))
		if m == nil {
			t.Fatalf("%s: no day in the path", rel)
		}
		days[m[1]] = true
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		writeFile(t, filepath.Join(dir, m[1], rel), data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range slices.Sorted(maps.Keys(days)) {
		out = append(out, filepath.Join(dir, d))
	}
	return out
}

// alertsByID reads JSON Lines alerts into id -> JSON; a later line with the
// same id replaces an earlier one.
func alertsByID(t *testing.T, out string, into map[string]string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var a struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil || a.ID == "" {
			t.Fatalf("not an alert (%v): %.200s", err, sc.Text())
		}
		into[a.ID] = sc.Text()
	}
}

// TestScanStateTwoRuns scans a simulation's logs split in two folders of
// days: in two runs with --state, and in one run over both. The alerts,
// the still-open ones of the first run replaced by their final version
// from the second, are the same ids with the same JSON.
func TestScanStateTwoRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates an organisation: not with -short")
	}
	dir := t.TempDir()
	sim := filepath.Join(dir, "sim")
	err := Simulate(context.Background(), SimulateOptions{Out: sim, Seed: 3, Vaults: 3, Days: 8, LearningDays: 2,
		Formats: []string{"azure"}, Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	days := splitByDay(t, filepath.Join(sim, simulate.LogsDir), filepath.Join(dir, "days"))
	if len(days) != 8 {
		t.Fatalf("%d day folders: %v", len(days), days)
	}
	// Two folders: the first five days, and the last three.
	halves := []string{filepath.Join(dir, "first"), filepath.Join(dir, "second")}
	for i, d := range days {
		h := halves[0]
		if i >= 5 {
			h = halves[1]
		}
		if err := os.MkdirAll(h, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(d, filepath.Join(h, filepath.Base(d))); err != nil {
			t.Fatal(err)
		}
	}
	base := ScanOptions{
		Output:         "jsonl",
		Strict:         true,
		LearningPeriod: 2 * 24 * time.Hour,
		TorLists:       []string{filepath.Join(sim, "intel", "tor-exit-nodes.txt")},
		ThreatIntel:    []string{filepath.Join(sim, "intel", "ip-reputation.txt")},
		Decoys:         filepath.Join(sim, simulate.DecoysFile),
	}

	o := base
	o.Paths = halves
	out, summary, err := runScan(t, o)
	if err != nil {
		t.Fatalf("%v\n%s", err, summary)
	}
	want := map[string]string{}
	alertsByID(t, out, want)
	if len(want) < 5 {
		t.Fatalf("one run raised only %d alerts: too few to compare\n%s", len(want), summary)
	}

	state := filepath.Join(dir, "state", "vaultwatch.state")
	if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
		t.Fatal(err)
	}
	got, fresh := map[string]string{}, map[string]string{}
	for i, h := range halves {
		o := base
		o.Paths, o.State = []string{h}, state
		out, summary, err := runScan(t, o)
		if err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, summary)
		}
		alertsByID(t, out, got)
		wantState := []string{"state: new", "state: continued from"}[i]
		if !strings.Contains(summary, wantState) || !strings.Contains(summary, "still open") {
			t.Errorf("run %d: summary lacks %q:\n%s", i+1, wantState, summary)
		}
		ents, err := os.ReadDir(filepath.Dir(state))
		if err != nil || len(ents) != 1 {
			t.Errorf("run %d: the state folder holds %v (%v), want the state alone", i+1, ents, err)
		}
		// The same run without state, for contrast.
		o.State = ""
		out, _, err = runScan(t, o)
		if err != nil {
			t.Fatal(err)
		}
		alertsByID(t, out, fresh)
	}
	for id, w := range want {
		if g, ok := got[id]; !ok {
			t.Errorf("alert %s of one run missing from the two runs: %.300s", id, w)
		} else if g != w {
			i := 0
			for i < len(g) && i < len(w) && g[i] == w[i] {
				i++
			}
			t.Errorf("alert %s differs at byte %d:\ntwo runs: %.300s\n one run: %.300s", id, i, g[max(i-100, 0):], w[max(i-100, 0):])
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("alert %s of the two runs is not in one run's: %.300s", id, g)
		}
	}
	same := len(fresh) == len(want)
	for id, w := range want {
		same = same && fresh[id] == w
	}
	if same {
		t.Error("two runs without --state give one run's alerts too: the test cannot tell")
	}
	t.Logf("%d alerts in one run; %d without state", len(want), len(fresh))
}

// TestScanStateErrors: a state that cannot be read stops the scan before
// anything is read, naming the file, and is left as it was; --state has
// no use with --events; its folder must exist.
func TestScanStateErrors(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(testutil.Root(t), "examples")
	bad := filepath.Join(dir, "bad.state")
	writeFile(t, bad, []byte("VWST\x01 not really"))
	_, _, err := runScan(t, ScanOptions{Paths: []string{logs}, State: bad})
	if !errors.Is(err, detect.ErrBadState) || !strings.Contains(err.Error(), bad) {
		t.Errorf("corrupt state: err = %v, want ErrBadState naming the file", err)
	}
	if b, _ := os.ReadFile(bad); string(b) != "VWST\x01 not really" {
		t.Errorf("the corrupt state was overwritten: %q", b)
	}
	_, _, err = runScan(t, ScanOptions{Paths: []string{logs}, State: filepath.Join(dir, "s"), Events: true})
	if !errors.Is(err, ErrUsage) {
		t.Errorf("--state with --events: err = %v, want ErrUsage", err)
	}
	_, _, err = runScan(t, ScanOptions{Paths: []string{logs}, State: filepath.Join(dir, "nowhere", "s")})
	if err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("state in a missing folder: err = %v", err)
	}
	// A path that does not exist: nothing read, no state written.
	st := filepath.Join(dir, "new.state")
	_, _, err = runScan(t, ScanOptions{Paths: []string{filepath.Join(dir, "missing")}, State: st})
	if err == nil {
		t.Error("a missing path: no error")
	}
	if _, err := os.Stat(st); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed scan wrote its state (%v)", err)
	}
	// And a good run writes it, readable by the next.
	for i := range 2 {
		_, summary, err := runScan(t, ScanOptions{Paths: []string{logs}, State: st})
		if err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, summary)
		}
	}
}
