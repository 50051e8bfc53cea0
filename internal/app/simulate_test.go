package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/simulate"
)

func TestSimulateOptionErrors(t *testing.T) {
	full := t.TempDir()
	writeFile(t, filepath.Join(full, "x"), []byte("x"))
	notDir := filepath.Join(full, "x")
	for _, c := range []struct {
		name string
		o    SimulateOptions
		want string
	}{
		{"no out", SimulateOptions{}, "--out DIR is required"},
		{"unknown format", SimulateOptions{Out: t.TempDir(), Formats: []string{"azure", "gcp"}}, `unknown format "gcp"`},
		{"days not above learning", SimulateOptions{Out: t.TempDir(), Days: 7, LearningDays: 7}, "--days 7 must be more than --learning-days 7"},
		{"default learning above days", SimulateOptions{Out: t.TempDir(), Days: 5}, "--days 5 must be more than --learning-days 7"},
		{"negative days", SimulateOptions{Out: t.TempDir(), Days: -1}, "must be positive"},
		{"negative vaults", SimulateOptions{Out: t.TempDir(), Vaults: -2}, "--vaults -2"},
		{"fewer vaults than formats", SimulateOptions{Out: t.TempDir(), Vaults: 2, Formats: []string{"azure", "vault", "aws"}}, "one vault per format"},
		{"out not empty", SimulateOptions{Out: full}, "is not empty"},
		{"intel dir a file", SimulateOptions{Out: t.TempDir(), IntelDir: notDir}, "is not a folder"},
		{"start not midnight", SimulateOptions{Out: t.TempDir(), Start: time.Date(2026, 10, 1, 3, 0, 0, 0, time.UTC)}, "not midnight UTC"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Simulate(context.Background(), c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if !errors.Is(err, ErrUsage) {
				t.Errorf("not a usage error: %v", err)
			}
		})
	}
	if err := Simulate(context.Background(), SimulateOptions{Out: t.TempDir(), IntelDir: filepath.Join(full, "nope")}); err == nil || errors.Is(err, ErrUsage) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing intel dir: %v", err)
	}
}

func TestSimulateDefaults(t *testing.T) {
	so, err := SimulateOptions{Out: t.TempDir(), Formats: []string{" Vault", "azure", "vault", ""}}.simOptions()
	if err != nil {
		t.Fatal(err)
	}
	if so.Vaults != DefaultSimVaults || so.Days != DefaultSimDays || so.LearningDays != DefaultSimLearningDays {
		t.Errorf("defaults: %+v", so)
	}
	if len(so.Formats) != 2 || so.Formats[0] != simulate.HashiVault || so.Formats[1] != simulate.Azure {
		t.Errorf("formats = %v, want [vault azure]", so.Formats)
	}
	so, err = SimulateOptions{Out: filepath.Join(t.TempDir(), "new")}.simOptions()
	if err != nil || len(so.Formats) != 2 {
		t.Errorf("no formats: %v %v", so.Formats, err)
	}
}

// A small simulation end to end: simulate, scan the logs with zero
// malformed records, score no alerts: every attack is missed.
func TestSimulateScanScore(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates several days")
	}
	dir := filepath.Join(t.TempDir(), "sim")
	var out bytes.Buffer
	if err := Simulate(context.Background(), SimulateOptions{Out: dir, Seed: 3, Vaults: 4, Days: 9, LearningDays: 7, Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "labels.jsonl") {
		t.Errorf("summary: %s", out.String())
	}
	// The logs, apart from labels.jsonl, summary.json and intel/.
	logs := []string{filepath.Join(dir, "logs")}
	for _, f := range []string{"labels.jsonl", "intel"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	_, summary, err := runScan(t, ScanOptions{Paths: logs, Strict: true})
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, summary)
	}
	if !strings.Contains(summary, "malformed: 0") {
		t.Errorf("scan summary:\n%s", summary)
	}
	empty := filepath.Join(t.TempDir(), "alerts.jsonl")
	writeFile(t, empty, nil)
	var rep bytes.Buffer
	// The vault-days come from summary.json: 4 vaults × 9 days.
	if err := Score(context.Background(), ScoreOptions{Labels: filepath.Join(dir, "labels.jsonl"), Alerts: empty, JSON: true, Stdout: &rep}); err != nil {
		t.Fatal(err)
	}
	var r simulate.Report
	if err := json.Unmarshal(rep.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.VaultDays != 36 {
		t.Errorf("vault-days = %v, want 36 (from summary.json)", r.VaultDays)
	}
	if r.Labels == 0 || r.Detected != 0 || len(r.Missed) != r.Labels {
		t.Errorf("report: %d labels, %d detected, %d missed", r.Labels, r.Detected, len(r.Missed))
	}
}

const scoreLabelsJSONL = `{"id":"atk-001","scenario":"tor-access","vaults":["kv-pay"],"providers":["azure"],"start":"2026-10-12T10:00:00Z","end":"2026-10-12T11:00:00Z","entities":{"ips":["203.0.113.9"]},"expected_alerts":["tor-access"],"description":"x"}
{"id":"atk-002","scenario":"decoy-read","vaults":["kv-hr"],"providers":["azure"],"start":"2026-10-13T10:00:00Z","end":"2026-10-13T10:01:00Z","entities":{"upns":["eve@contoso.com"]},"expected_alerts":["decoy-secret-access"],"description":"y"}
`

const scoreAlertsJSONL = `{"id":"a1","type":"tor-access","startTime":"2026-10-12T10:20:00Z","endTime":"2026-10-12T10:40:00Z","vault":{"provider":"azure-keyvault","id":"/subscriptions/s/resourcegroups/g/providers/microsoft.keyvault/vaults/kv-pay","name":"kv-pay"},"entities":{"ip":{"address":"203.0.113.9","classification":"tor"}}}
{"id":"a2","type":"unusual-ip","startTime":"2026-10-14T08:00:00Z","endTime":"2026-10-14T08:00:00Z","vault":{"name":"kv-ops"},"entities":{"ips":["198.51.100.7"]}}
`

func TestScoreCommand(t *testing.T) {
	dir := t.TempDir()
	labels := filepath.Join(dir, "labels.jsonl")
	alerts := filepath.Join(dir, "alerts.jsonl")
	writeFile(t, labels, []byte(scoreLabelsJSONL))
	writeFile(t, alerts, []byte(scoreAlertsJSONL))
	run := func(o ScoreOptions) (string, error) {
		var out bytes.Buffer
		o.Stdout = &out
		err := Score(context.Background(), o)
		return out.String(), err
	}

	// Without --vault-days or summary.json: a usage error.
	if _, err := run(ScoreOptions{Labels: labels, Alerts: alerts}); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "--vault-days") {
		t.Errorf("no vault-days: %v", err)
	}

	text, err := run(ScoreOptions{Labels: labels, Alerts: alerts, VaultDays: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"recall: 1 of 2 attacks detected (50%)", "false alarms: 1 in 1", "2.00 groups per 100 vault-days", "atk-002", "2026-10-14  kv-ops"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}

	// Vault-days from summary.json, alerts from standard input, JSON out.
	writeFile(t, filepath.Join(dir, "summary.json"), []byte(`{"seed":1,"vaults":5,"days":20}`))
	js, err := run(ScoreOptions{Labels: labels, Alerts: "-", Stdin: strings.NewReader(scoreAlertsJSONL), JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	var r simulate.Report
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if r.VaultDays != 100 || r.Detected != 1 || r.FalseAlarms.GroupsPer100VaultDays != 1 || len(r.Missed) != 1 || r.Missed[0].ID != "atk-002" {
		t.Errorf("report: %+v", r)
	}

	// A zero tolerance is exact: atk-002's alert-free window stays missed,
	// and an alert 10 minutes after atk-001 ends no longer matches it.
	late := filepath.Join(dir, "late.jsonl")
	writeFile(t, late, []byte(strings.Replace(scoreAlertsJSONL, `"startTime":"2026-10-12T10:20:00Z","endTime":"2026-10-12T10:40:00Z"`, `"startTime":"2026-10-12T11:10:00Z","endTime":"2026-10-12T11:10:00Z"`, 1)))
	if text, err := run(ScoreOptions{Labels: labels, Alerts: late, VaultDays: 1, Tolerance: &Tolerance{}}); err != nil || !strings.Contains(text, "recall: 0 of 2") {
		t.Errorf("zero tolerance: %v\n%s", err, text)
	}
	if text, err := run(ScoreOptions{Labels: labels, Alerts: late, VaultDays: 1}); err != nil || !strings.Contains(text, "recall: 1 of 2") {
		t.Errorf("default tolerance: %v\n%s", err, text)
	}

	bad := filepath.Join(dir, "bad.jsonl")
	writeFile(t, bad, []byte(scoreAlertsJSONL+"{\"type\":\"x\"}\n"))
	for _, c := range []struct {
		o    ScoreOptions
		want string
	}{
		{ScoreOptions{Alerts: alerts}, "--labels FILE is required"},
		{ScoreOptions{Labels: labels}, "no alerts file"},
		{ScoreOptions{Labels: labels, Alerts: bad}, "alerts line 3: alert has no startTime"},
		{ScoreOptions{Labels: labels, Alerts: filepath.Join(dir, "nope")}, "no such file"},
		{ScoreOptions{Labels: alerts, Alerts: alerts}, "labels line 1: label has no vault"},
		{ScoreOptions{Labels: labels, Alerts: alerts, VaultDays: -1}, "want a positive number"},
		{ScoreOptions{Labels: labels, Alerts: alerts, VaultDays: 1, Tolerance: &Tolerance{After: -time.Minute}}, "negative tolerance"},
	} {
		if _, err := run(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.o, err, c.want)
		}
	}
}

func TestSummaryVaultDays(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		json string
		want float64
	}{
		{`{"vault_days":84}`, 84},
		{`{"VaultDays":84}`, 84},
		{`{"vaults":4,"days":21}`, 84},
		{`{"vaults":[{"name":"a"},{"name":"b"}],"days":10}`, 20},
		{`{"seed":1}`, 0},
	} {
		p := filepath.Join(dir, "summary.json")
		writeFile(t, p, []byte(c.json))
		got, err := summaryVaultDays(p)
		if err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", c.json, got, err, c.want)
		}
	}
	if got, err := summaryVaultDays(filepath.Join(dir, "none.json")); got != 0 || err != nil {
		t.Errorf("absent: %v %v", got, err)
	}
}
