package gcpaudit

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// sampleFiles returns the GCP audit log samples.
func sampleFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "gcp-*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(m) == 0 {
		tb.Fatal("no GCP sample")
	}
	return m
}

// TestConformance decodes the GCP samples and checks the normalized fields
// by hand.
func TestConformance(t *testing.T) {
	dir := testutil.Samples(t)
	var got []event.Event
	for _, f := range sampleFiles(t, dir) {
		for i, r := range decodeAll(t, filepath.Base(f), readRecords(t, f)) {
			if r.Err != nil {
				t.Errorf("%s record %d: %v", filepath.Base(f), i+1, r.Err)
			}
			got = append(got, r.Events...)
		}
	}
	// The entry is trimmed: no timestamp, insertId or authenticationInfo.
	want := []event.Event{{
		Time:      time.Date(2025, 2, 2, 22, 56, 34, 343726445, time.UTC),
		Provider:  event.ProviderGCPSecretManager,
		Format:    event.FormatGCPAudit,
		Vault:     event.Vault{ID: "gcp:victim-project", Name: "victim-project"},
		Operation: event.Operation{Name: "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion", Class: event.ClassRead},
		Object:    event.Object{Kind: event.KindSecret, Name: "stratus-red-team-retrieve-secret-8", Version: "latest"},
		Caller:    event.Caller{Type: event.IdentityAnonymous},
		IP:        netip.MustParseAddr("7.7.7.7"),
		UserAgent: "stratus-red-team_4fbc5d44-9c4f-469f-a15b-0c85e6ad3241 grpc-go/1.70.0,gzip(gfe)",
		Result:    event.Result{Outcome: event.OutcomeSuccess, Status: 200},
		Source:    event.Location{File: "gcp-secretmanager-accesssecretversion-stratus-red-team.json", Line: 1},
	}}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		wj, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("got\n%s\nwant\n%s", gj, wj)
	}
}

// TestDetectOtherFormats checks that Detect refuses every record of the
// other formats' samples.
func TestDetectOtherFormats(t *testing.T) {
	dir := testutil.Samples(t)
	var files []string
	for _, pattern := range []string{
		"azure-kv-*.jsonl", "vault-audit-*.jsonl", "vault-audit-*.json",
		"cloudtrail-*.json", "cloudtrail-*.jsonl", "cloudtrail-invictus-ir-aws_dataset/*.json",
	} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		files = append(files, m...)
	}
	var p fastjson.Parser
	n := 0
	for _, f := range files {
		for i, raw := range readRecords(t, f) {
			v, err := p.ParseBytes(raw)
			if err != nil {
				t.Fatalf("%s record %d: %v", f, i+1, err)
			}
			n++
			if Detect(v) {
				t.Errorf("%s record %d: Detect is true", filepath.Base(f), i+1)
			}
		}
	}
	if n < 2000 {
		t.Errorf("only %d records of other formats found", n)
	}
	t.Logf("%d records of other formats refused", n)
}
