package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"vaultwatch/internal/simulate"
)

// TestSimulateToServer pushes a simulated organisation into a running
// server's ingest endpoint: every record arrives, and the server's
// detectors raise alerts of the simulated attacks.
func TestSimulateToServer(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates an organisation")
	}
	data, logs, out := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "sim")
	ts := startService(t, data, logs)
	defer ts.stop(t)
	tok, _, err := ts.Auth().CreateToken(context.Background(), "sim", "ingest", "ingest", "admin")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = Simulate(context.Background(), SimulateOptions{Out: out, Seed: 3, Vaults: 2, Days: 9, LearningDays: 7,
		Formats: []string{"azure", "vault"}, To: ts.URL(), Token: tok, Stdout: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("simulated and pushed in %s", time.Since(start))
	var labels []simulate.Label
	b, _ := os.ReadFile(filepath.Join(out, simulate.LabelsFile))
	for _, line := range splitLines(b) {
		var l simulate.Label
		json.Unmarshal(line, &l)
		labels = append(labels, l)
	}
	var sum struct{ Accesses int }
	b, _ = os.ReadFile(filepath.Join(out, SummaryFile))
	json.Unmarshal(b, &sum)
	// Every access became one stored event: nothing lost, nothing twice.
	eventually(t, "every event", func() bool { return ts.countEvents(t) >= sum.Accesses })
	if n := ts.countEvents(t); n != sum.Accesses || n == 0 {
		t.Fatalf("%d events stored, want the simulation's %d accesses", n, sum.Accesses)
	}
	// The attacks that need no threat-intel list raise their alerts.
	var list alertList
	want := []string{"privileged-token-use", "audit-tampering", "destructive-burst", "credential-probing"}
	eventually(t, "the attacks' alerts", func() bool {
		ts.get(t, "/api/v1/alerts?limit=500", &list)
		got := map[string]bool{}
		for _, a := range list.Alerts {
			got[a.Alert.Type] = true
		}
		for _, w := range want {
			if !got[w] {
				return false
			}
		}
		return true
	})
	if len(labels) == 0 {
		t.Fatal("no attack simulated")
	}
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		if i > 0 {
			out = append(out, b[:i])
		}
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}
