package simulate

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// TestRunEndToEnd simulates a small organisation with the real writers and
// attacks, and reads everything back with the foundation's parsers.
func TestRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	opts := Options{
		Out: dir, Seed: 42, Vaults: 3, Days: 9, LearningDays: 3,
		Formats:  []Provider{Azure, HashiVault, AWS},
		IntelDir: testutil.ThreatIntel(t),
	}
	sum, err := run(context.Background(), opts, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Days != 9 || sum.Vaults != 3 || sum.Accesses == 0 || sum.Labels == 0 || sum.Attack == 0 {
		t.Fatalf("summary: %+v", sum)
	}
	for _, p := range []Provider{Azure, HashiVault, AWS} {
		if sum.ByProvider[p] == 0 {
			t.Errorf("no accesses written for %s: %v", p, sum.ByProvider)
		}
	}

	var events int64
	var attackerSeen int
	labels := readLabels(t, filepath.Join(dir, LabelsFile))
	if len(labels) != sum.Labels {
		t.Errorf("labels.jsonl has %d labels, summary says %d", len(labels), sum.Labels)
	}
	for i := 1; i < len(labels); i++ {
		if labels[i].Start.Before(labels[i-1].Start) {
			t.Errorf("labels not sorted by start: %s before %s", labels[i-1].ID, labels[i].ID)
		}
	}
	ips := map[string]bool{}
	for _, l := range labels {
		for _, ip := range l.Entities.IPs {
			ips[ip] = true
		}
	}
	start, end := sum.Start, sum.Start.AddDate(0, 0, sum.Days)
	var outside int
	backed := make([]int, len(labels)) // events matching each label
	r := auditlog.NewReader(func(e *event.Event) {
		events++
		if e.Time.Before(start) || !e.Time.Before(end) {
			outside++
		}
		if e.IP.IsValid() && ips[e.IP.String()] {
			attackerSeen++
		}
		for i, l := range labels {
			if !e.Time.Before(l.Start.Truncate(time.Second)) && !e.Time.After(l.End) && slices.Contains(l.Vaults, e.Vault.Name) &&
				(slices.Contains(l.Entities.IPs, e.IP.String()) || slices.Contains(l.Entities.ObjectIDs, e.Caller.ObjectID) ||
					slices.Contains(l.Entities.VaultEntities, e.Caller.VaultEntityID) || slices.Contains(l.Entities.ARNs, e.Caller.ARN)) {
				backed[i]++
			}
		}
	})
	if err := r.ReadPaths(context.Background(), []string{filepath.Join(dir, LogsDir)}); err != nil {
		t.Fatal(err)
	}
	if r.Stats.Malformed != 0 {
		for _, p := range r.Stats.Problems[:min(10, len(r.Stats.Problems))] {
			t.Log(p)
		}
		t.Fatalf("%d malformed records", r.Stats.Malformed)
	}
	if events < int64(sum.Accesses)*9/10 {
		t.Errorf("read %d events from %d accesses", events, sum.Accesses)
	}
	if outside != 0 {
		t.Errorf("%d events outside the simulated period", outside)
	}
	if len(ips) > 0 && attackerSeen == 0 {
		t.Errorf("no event from any labelled attacker address")
	}
	// Every label is backed by the logs: events in its window, on its vaults
	// (as the logs name them), from its attacker.
	for i, l := range labels {
		if backed[i] == 0 {
			t.Errorf("%s (%s) on %v: no event in the logs from its entities in its window", l.ID, l.Scenario, l.Vaults)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "intel")); err != nil {
		t.Errorf("intel lists not written: %v", err)
	}
}

// TestRunDeterministic checks that the same seed writes the same bytes.
func TestRunDeterministic(t *testing.T) {
	sums := make([]map[string]string, 2)
	for i := range sums {
		dir := t.TempDir()
		if _, err := run(context.Background(), Options{Out: dir, Seed: 7, Vaults: 2, Days: 3, LearningDays: 1}, 0.05); err != nil {
			t.Fatal(err)
		}
		sums[i] = treeDigest(t, dir)
	}
	if len(sums[0]) == 0 {
		t.Fatal("nothing written")
	}
	for name, h := range sums[0] {
		if sums[1][name] != h {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	if len(sums[0]) != len(sums[1]) {
		t.Errorf("runs wrote %d and %d files", len(sums[0]), len(sums[1]))
	}
}

func treeDigest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readLabels(t *testing.T, path string) []Label {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Label
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l Label
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("labels line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMergeAccesses(t *testing.T) {
	at := func(s int) time.Time { return DefaultStart.Add(time.Duration(s) * time.Second) }
	tests := []struct {
		name        string
		benign, atk []int
		want        []string
	}{
		{"empty", nil, nil, nil},
		{"only benign", []int{1, 2}, nil, []string{"b1", "b2"}},
		{"only attacks", nil, []int{3}, []string{"a3"}},
		{"interleaved", []int{1, 4}, []int{2, 5}, []string{"b1", "a2", "b4", "a5"}},
		{"ties: benign first", []int{2}, []int{2}, []string{"b2", "a2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mk := func(secs []int, tag string) []Access {
				var out []Access
				for _, s := range secs {
					out = append(out, Access{Time: at(s), Object: fmt.Sprint(tag, s)})
				}
				return out
			}
			var got []string
			for a := range mergeAccesses(mk(tt.benign, "b"), mk(tt.atk, "a")) {
				got = append(got, a.Object)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
