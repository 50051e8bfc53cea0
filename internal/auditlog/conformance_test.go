package auditlog

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// The real samples, read the way `vaultwatch scan` reads them: format
// sniffed per record, wrappers and streams split by the scanner. Every
// record of a supported format must become events or a counted skip, with
// no malformed record. The per-format packages check the normalized fields
// by hand; this checks the whole intake and the counts.
func TestSamplesThroughReader(t *testing.T) {
	dir := testutil.Samples(t)
	for _, tc := range []struct {
		path             string
		events, skipped  int64 // -1: at least one
		vaults           int
		unwrap           func(t *testing.T, data []byte) []byte
		formats          []event.Format
		providers        []event.Provider
		denied, notFound int64 // -1: at least one; 0: not checked
	}{
		// Nine vault ids: the samples mask subscription ids differently.
		{path: "azure-kv-auditevent-sekoia-intake-formats.records.DERIVED.jsonl", events: 32, vaults: 9,
			formats: []event.Format{event.FormatAzureKeyVault}, providers: []event.Provider{event.ProviderAzureKeyVault}, denied: -1, notFound: -1},
		{path: "azure-kv-auditevent-sekoia-intake-formats", events: 32, vaults: 9, unwrap: inputMessage,
			formats: []event.Format{event.FormatAzureKeyVault}, denied: -1, notFound: -1},
		{path: "cloudtrail-invictus-ir-aws_dataset", events: -1, skipped: -1, vaults: -1,
			formats: []event.Format{event.FormatCloudTrail}, providers: []event.Provider{event.ProviderAWSSecretsManager, event.ProviderAWSKMS}},
		{path: "cloudtrail-invictus-ir-aws_dataset.secretsmanager-kms.DERIVED.jsonl", events: -1, vaults: -1,
			formats: []event.Format{event.FormatCloudTrail}, providers: []event.Provider{event.ProviderAWSSecretsManager, event.ProviderAWSKMS}},
		{path: "cloudtrail-secretsmanager-batchgetsecretvalue-stratus-red-team.json", events: -1, vaults: 1, formats: []event.Format{event.FormatCloudTrail}},
		{path: "cloudtrail-secretsmanager-getsecretvalue-stratus-red-team.json", events: -1, vaults: 1, formats: []event.Format{event.FormatCloudTrail}},
		{path: "cloudtrail-ssm-getparameters-securestring-stratus-red-team.json", events: 0, skipped: -1, formats: []event.Format{event.FormatCloudTrail}},
		{path: "cloudtrail-secretsmanager-panther-analysis-tests.DERIVED.json", events: 6, vaults: -1, unwrap: pantherLog,
			formats: []event.Format{event.FormatCloudTrail}, denied: 1},
		{path: "gcp-secretmanager-accesssecretversion-stratus-red-team.json", events: 1, vaults: 1,
			formats: []event.Format{event.FormatGCPAudit}, providers: []event.Provider{event.ProviderGCPSecretManager}},
		// The denied pair has no token (an empty auth block): unauthenticated.
		{path: "vault-audit-elastic-integrations-test-audit.EXCERPT-lines3-6.jsonl", events: 2, vaults: 2,
			formats: []event.Format{event.FormatVaultAudit}},
		// Each device was enabled at a different point of the same run, so
		// the files differ. In each, the audit device's test request is
		// skipped, and the response that enabled the device has no request
		// (the device did not exist yet): one event per response.
		{path: "vault-audit-real-devserver.jsonl", events: 35, skipped: 1, vaults: -1, formats: []event.Format{event.FormatVaultAudit}, denied: -1},
		{path: "vault-audit-real-devserver-socket.jsonl", events: 34, skipped: 1, vaults: -1, formats: []event.Format{event.FormatVaultAudit}, denied: -1},
		{path: "vault-audit-real-devserver-lograw.jsonl", events: 33, skipped: 1, vaults: -1, formats: []event.Format{event.FormatVaultAudit}, denied: -1},
		{path: "vault-audit-real-devserver-jsonx.log", events: 32, skipped: 1, vaults: -1, formats: []event.Format{event.FormatVaultAudit}, denied: -1},
		{path: "vault-audit-tallen-hashicorp-tfc-jwt.json", events: 6, vaults: -1, formats: []event.Format{event.FormatVaultAudit}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			var evs []event.Event
			r := NewReader(func(e *event.Event) {
				c := *e
				c.Caller.Policies = append([]string(nil), e.Caller.Policies...)
				evs = append(evs, c)
			})
			full := filepath.Join(dir, tc.path)
			if tc.unwrap == nil {
				if err := r.ReadPaths(context.Background(), []string{full}); err != nil {
					t.Fatal(err)
				}
			} else {
				files := []string{full}
				if fi, err := os.Stat(full); err == nil && fi.IsDir() {
					files, _ = filepath.Glob(filepath.Join(full, "*.json"))
				}
				for _, f := range files {
					data, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					r.ReadStream(filepath.Base(f), bytes.NewReader(tc.unwrap(t, data)))
				}
			}
			st := r.Stats
			for _, p := range st.Problems {
				t.Errorf("malformed: %s", p)
			}
			check := func(what string, got, want int64) {
				t.Helper()
				if (want < 0 && got == 0) || (want >= 0 && got != want) {
					t.Errorf("%s: got %d, want %d (-1: some)", what, got, want)
				}
			}
			check("events", st.Events, tc.events)
			check("skipped", st.SkippedTotal(), tc.skipped)
			if tc.vaults != 0 {
				check("vaults", int64(len(st.ByVault)), int64(tc.vaults))
			}
			for f := range st.ByFormat {
				if !contains(tc.formats, f) {
					t.Errorf("records read as %s", f)
				}
			}
			var denied, notFound int64
			for _, e := range evs {
				if len(tc.providers) > 0 && !contains(tc.providers, e.Provider) {
					t.Errorf("event with provider %s", e.Provider)
				}
				if e.Time.IsZero() || e.Time.Location().String() != "UTC" {
					t.Errorf("event time %v", e.Time)
				}
				if e.Vault.ID == "" || e.Vault.Name == "" || e.Operation.Name == "" || e.Operation.Class == "" || e.Result.Outcome == "" {
					t.Errorf("incomplete event: %+v", e)
				}
				if e.Source.File == "" || (e.Source.Line == 0 && e.Source.Offset == 0 && tc.unwrap == nil) {
					t.Errorf("event without its location: %+v", e.Source)
				}
				switch e.Result.Outcome {
				case event.OutcomeDenied:
					denied++
				case event.OutcomeNotFound:
					notFound++
				}
			}
			if tc.denied != 0 {
				check("denied", denied, tc.denied)
			}
			if tc.notFound != 0 {
				check("not found", notFound, tc.notFound)
			}
		})
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// inputMessage extracts the record from a test file of the form
// {"input":{"message":"<record>"}}.
func inputMessage(t *testing.T, data []byte) []byte {
	t.Helper()
	var w struct {
		Input struct {
			Message string `json:"message"`
		} `json:"input"`
	}
	if err := json.Unmarshal(data, &w); err != nil || w.Input.Message == "" {
		t.Fatalf("not an input.message file: %v", err)
	}
	return []byte(w.Input.Message)
}

// pantherLog extracts the "Log" record of each rule-test case.
func pantherLog(t *testing.T, data []byte) []byte {
	t.Helper()
	var cases []struct {
		Log json.RawMessage `json:"Log"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, c := range cases {
		var compact bytes.Buffer
		if err := json.Compact(&compact, c.Log); err != nil {
			t.Fatal(err)
		}
		b.Write(compact.Bytes())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// The reader never lets a secret value from a log_raw=true Vault device
// reach an event: every string under a data key of the sample is absent
// from the events' JSON.
func TestLogRawValuesNeverLeave(t *testing.T) {
	dir := testutil.Samples(t)
	data, err := os.ReadFile(filepath.Join(dir, "vault-audit-real-devserver-lograw.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	secrets, public := map[string]bool{}, map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		collectSecrets(v, false, secrets, public)
	}
	// A value that the log also writes in the clear outside any data (a
	// policy name in a policy write's data, say) is not a secret.
	for s := range public {
		delete(secrets, s)
	}
	if len(secrets) == 0 {
		t.Fatal("no data values found in the log_raw sample")
	}
	var out bytes.Buffer
	r := NewReader(func(e *event.Event) { out.Write(e.AppendJSON(nil)) })
	r.ReadStream("lograw", bytes.NewReader(data))
	if r.Stats.Events == 0 {
		t.Fatal("no events")
	}
	for s := range secrets {
		// As a whole value, or anywhere when long enough not to be a
		// common word ("limited" is a data value and part of the display
		// name "token-limited").
		if strings.Contains(out.String(), `"`+s+`"`) || (len(s) >= 12 && strings.Contains(out.String(), s)) {
			t.Errorf("a value from the log's data reached an event: %.4s...", s)
		}
	}
}

func collectSecrets(v any, under bool, secret, public map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			sensitive := under || k == "data" || k == "client_token" || k == "secret_id" || k == "password" || k == "token" || k == "wrapping_token"
			collectSecrets(c, sensitive, secret, public)
		}
	case []any:
		for _, c := range x {
			collectSecrets(c, under, secret, public)
		}
	case string:
		switch {
		case !under:
			public[x] = true
		case len(x) >= 6:
			secret[x] = true
		}
	}
}
