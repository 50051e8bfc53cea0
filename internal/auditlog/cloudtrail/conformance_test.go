package cloudtrail

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record/recordtest"
	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// sampleFiles returns the CloudTrail sample files: the raw delivery files,
// their Secrets Manager and KMS records one per line, and the captured
// arrays.
func sampleFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	var files []string
	for _, pattern := range []string{
		"cloudtrail-invictus-ir-aws_dataset/*.json",
		"cloudtrail-invictus-ir-aws_dataset.secretsmanager-kms.DERIVED.jsonl",
		"cloudtrail-secretsmanager-*-stratus-red-team.json",
		"cloudtrail-ssm-*-stratus-red-team.json",
	} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			tb.Fatal(err)
		}
		if len(m) == 0 {
			tb.Fatalf("no sample matches %s", pattern)
		}
		files = append(files, m...)
	}
	return files
}

// pantherRecords returns the logs of the reshaped rule-test file: an array
// of test cases, each holding its record in "Log".
func pantherRecords(tb testing.TB, dir string) []json.RawMessage {
	tb.Helper()
	recs := readRecords(tb, filepath.Join(dir, "cloudtrail-secretsmanager-panther-analysis-tests.DERIVED.json"))
	out := make([]json.RawMessage, 0, len(recs))
	for _, raw := range recs {
		var c struct {
			Log json.RawMessage `json:"Log"`
		}
		if err := json.Unmarshal(raw, &c); err != nil || c.Log == nil {
			tb.Fatalf("rule test case without a Log: %v", err)
		}
		out = append(out, c.Log)
	}
	return out
}

// TestConformance decodes every CloudTrail sample record: none may be
// malformed, and records of Secrets Manager and KMS must give events.
func TestConformance(t *testing.T) {
	dir := testutil.Samples(t)
	perFile := map[string]int{} // events-producing records per file
	skipped := map[string]int{}
	var all []recordtest.Decoded
	for _, f := range sampleFiles(t, dir) {
		recs := readRecords(t, f)
		for i, r := range decodeAll(t, filepath.Base(f), recs) {
			switch {
			case r.Err == nil:
				perFile[filepath.Base(f)]++
				if len(r.Events) == 0 {
					t.Errorf("%s record %d: no event", filepath.Base(f), i+1)
				}
			case isSkip(r.Err):
				skipped[r.Err.Error()]++
			default:
				t.Errorf("%s record %d: %v", filepath.Base(f), i+1, r.Err)
			}
			all = append(all, r)
		}
	}
	panther := decodeAll(t, "panther", pantherRecords(t, dir))
	for i, r := range panther {
		if r.Err != nil {
			t.Errorf("panther record %d: %v", i+1, r.Err)
		}
	}
	all = append(all, panther...)

	// The raw delivery files hold 473 Secrets Manager and KMS records, the
	// same as the derived file, and 4 CloudTrail calls that change logging
	// (3 DeleteTrail, 1 PutEventSelectors; their reads, StartLogging and
	// ListTags are skipped).
	raw := 0
	for f, n := range perFile {
		if m, _ := filepath.Match("218007301253_CloudTrail_*.json", f); m {
			raw += n
		}
	}
	if want := 473; raw != want+4 || perFile["cloudtrail-invictus-ir-aws_dataset.secretsmanager-kms.DERIVED.jsonl"] != want {
		t.Errorf("raw files gave %d records, derived %d; want %d and %d", raw, perFile["cloudtrail-invictus-ir-aws_dataset.secretsmanager-kms.DERIVED.jsonl"], want+4, want)
	}
	if n := skipped["skipped: service cloudtrail.amazonaws.com"]; n != 14 {
		t.Errorf("%d CloudTrail reads skipped, want 14", n)
	}
	if n := skipped["skipped: service ssm.amazonaws.com"]; n != 485+10 {
		t.Errorf("%d SSM records skipped, want 495", n)
	}

	for _, r := range all {
		for _, e := range r.Events {
			if e.Format != event.FormatCloudTrail || e.Vault.ID == "" || e.Operation.Class == "" || e.Result.Outcome == "" || e.Caller.Type == "" {
				t.Errorf("%s:%d: incomplete event %+v", e.Source.File, e.Source.Line, e)
			}
			if e.Operation.Class == event.ClassOther {
				t.Errorf("%s:%d: %s is not classified", e.Source.File, e.Source.Line, e.Operation.Name)
			}
		}
	}
}

// TestConformanceFields checks normalized fields by hand on sample records
// of each kind.
func TestConformanceFields(t *testing.T) {
	dir := testutil.Samples(t)
	at := func(tb testing.TB, file string, recs []json.RawMessage, pick func(*fastjson.Value) bool) []event.Event {
		tb.Helper()
		var p fastjson.Parser
		for i, raw := range recs {
			v, err := p.ParseBytes(raw)
			if err != nil {
				tb.Fatal(err)
			}
			if pick(v) {
				r := decodeAll(tb, file, recs[i:i+1])[0]
				if r.Err != nil {
					tb.Fatal(r.Err)
				}
				return r.Events
			}
		}
		tb.Fatalf("no such record in %s", file)
		return nil
	}
	byEventID := func(id string) func(*fastjson.Value) bool {
		return func(v *fastjson.Value) bool { return string(v.GetStringBytes("eventID")) == id }
	}
	derived := readRecords(t, filepath.Join(dir, "cloudtrail-invictus-ir-aws_dataset.secretsmanager-kms.DERIVED.jsonl"))
	utc := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	invictusVault := event.Vault{ID: "aws:123837392027:us-east-1", Name: "123837392027/us-east-1"}

	t.Run("denied", func(t *testing.T) {
		evs := at(t, "panther", pantherRecords(t, dir), func(v *fastjson.Value) bool { return v.Get("errorCode") != nil })
		want := event.Event{
			Time:      utc("2024-10-17T21:48:45Z"),
			Provider:  event.ProviderAWSSecretsManager,
			Format:    event.FormatCloudTrail,
			Vault:     event.Vault{ID: "aws:123123123123:us-west-2", Name: "123123123123/us-west-2"},
			Operation: event.Operation{Name: "GetSecretValue", Class: event.ClassRead},
			Object:    event.Object{Kind: event.KindSecret, Name: "stratus-red-team-retrieve-secret-3", Version: "7DC59E8B-63AE-454D-B7A4-8A7D64AB05E7"},
			Caller: event.Caller{
				Type:        event.IdentityUser,
				DisplayName: "evil.genius",
				ARN:         "arn:aws:sts::123123123123:assumed-role/AWSReservedSSO_DevAdmin_635426549a280cc6/evil.genius",
				AccessKeyID: "ASIASXP6SDP2LKLKYYC4",
				AccountID:   "123123123123",
			},
			IP:            netip.MustParseAddr("123.123.123.123"),
			UserAgent:     "APN/1.0 HashiCorp/1.0 Terraform/1.1.2 (+https://www.terraform.io) terraform-provider-aws/3.76.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.44.157 (go1.19.3; darwin; arm64) HashiCorp-terraform-exec/0.17.3",
			CorrelationID: "5128b35f-0daf-4c5e-948a-21a1c507968c",
			Result:        event.Result{Outcome: event.OutcomeDenied, Status: 403, Reason: "AccessDenied"},
			Source:        event.Location{File: "panther", Line: 1},
		}
		check(t, evs, want)
	})

	t.Run("read by a user", func(t *testing.T) {
		evs := at(t, "derived", derived, byEventID("0bdf2b9c-2cf9-40dd-a88b-0148e08e5a75"))
		check(t, evs, event.Event{
			Time:      utc("2023-07-10T11:57:50Z"),
			Provider:  event.ProviderAWSSecretsManager,
			Format:    event.FormatCloudTrail,
			Vault:     invictusVault,
			Operation: event.Operation{Name: "GetSecretValue", Class: event.ClassRead},
			Object:    event.Object{Kind: event.KindSecret, Name: "stratus-red-team-retrieve-secret-6", Version: "B36292B7-145C-41BE-81A3-7CF5EAB972C8"},
			Caller: event.Caller{
				Type:        event.IdentityUser,
				DisplayName: "bert-jan",
				ARN:         "arn:aws:iam::123837392027:user/bert-jan",
				AccessKeyID: "AKIATFQR7NSC8Q4X20BJ",
				AccountID:   "123837392027",
			},
			IP:            netip.MustParseAddr("192.168.10.20"),
			UserAgent:     "APN/1.0 HashiCorp/1.0 Terraform/1.1.2 (+https://www.terraform.io) terraform-provider-aws/3.76.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.44.157 (go1.19.3; linux; amd64) stratus-red-team_561fe49b-e6b4-44da-a587-f2c718eb578a HashiCorp-terraform-exec/0.17.3",
			CorrelationID: "2e05fd54-ac57-40d5-ac07-aca561ef8863",
			Result:        event.Result{Outcome: event.OutcomeSuccess, Status: 200},
			Source:        event.Location{File: "derived", Line: 1},
		})
	})

	t.Run("service event", func(t *testing.T) {
		evs := at(t, "derived", derived, byEventID("f49e3475-1cda-489e-8298-b1016c5eb3de"))
		check(t, evs, event.Event{
			Time:          utc("2023-07-10T12:08:07Z"),
			Provider:      event.ProviderAWSSecretsManager,
			Format:        event.FormatCloudTrail,
			Vault:         invictusVault,
			Operation:     event.Operation{Name: "EndSecretVersionDelete", Class: event.ClassManagement},
			Object:        event.Object{Kind: event.KindSecret, Name: "stratus-red-team-retrieve-secret-15"},
			Caller:        event.Caller{Type: event.IdentityProviderService, DisplayName: "secretsmanager.amazonaws.com", AccountID: "123837392027", InvokedBy: "secretsmanager.amazonaws.com"},
			Host:          "secretsmanager.amazonaws.com",
			UserAgent:     "secretsmanager.amazonaws.com",
			CorrelationID: "SecretDeleteMessage:arn:aws:secretsmanager:us-east-1:123837392027:secret:stratus-red-team-retrieve-secret-15-wL771x:2023-07-10T12:07:00Z:Forced",
			Result:        event.Result{Outcome: event.OutcomeSuccess, Status: 200},
			Source:        event.Location{File: "derived", Line: 1},
		})
	})

	t.Run("kms call made by a service for a user", func(t *testing.T) {
		evs := at(t, "derived", derived, byEventID("c6ebc8b7-572c-4123-92bf-9d94933724ca"))
		check(t, evs, event.Event{
			Time:      utc("2023-07-10T11:57:50Z"),
			Provider:  event.ProviderAWSKMS,
			Format:    event.FormatCloudTrail,
			Vault:     invictusVault,
			Operation: event.Operation{Name: "Decrypt", Class: event.ClassCrypto},
			Object:    event.Object{Kind: event.KindKey, Name: "dad21b23-9915-42bd-981b-2a9f3c8f20c8"},
			Caller: event.Caller{
				Type:        event.IdentityUser,
				DisplayName: "bert-jan",
				ARN:         "arn:aws:iam::123837392027:user/bert-jan",
				AccessKeyID: "ASIATFQR7NSC6V3LY3GE",
				AccountID:   "123837392027",
				InvokedBy:   "secretsmanager.amazonaws.com",
			},
			Host:          "secretsmanager.amazonaws.com",
			UserAgent:     "secretsmanager.amazonaws.com",
			CorrelationID: "667f6ef8-c878-4517-bc4a-a6fb04ad2dac",
			Result:        event.Result{Outcome: event.OutcomeSuccess, Status: 200},
			Source:        event.Location{File: "derived", Line: 1},
		})
	})

	t.Run("forced delete", func(t *testing.T) {
		evs := at(t, "derived", derived, byEventID("dbf59de5-4d63-4aca-9fce-a657f5df89c9"))
		if len(evs) != 1 || evs[0].Operation.Class != event.ClassPurge || evs[0].Object.Name != "stratus-red-team-retrieve-secret-7" {
			t.Errorf("got %+v, want a purge of stratus-red-team-retrieve-secret-7", evs)
		}
	})

	// Terraform tearing down stratus-red-team's trails, and the selector
	// change of its "event selectors" technique.
	var raw []json.RawMessage
	rawFiles, err := filepath.Glob(filepath.Join(dir, "cloudtrail-invictus-ir-aws_dataset", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rawFiles {
		raw = append(raw, readRecords(t, f)...)
	}
	bert := event.Caller{
		Type:        event.IdentityUser,
		DisplayName: "bert-jan",
		ARN:         "arn:aws:iam::123837392027:user/bert-jan",
		AccessKeyID: "AKIATFQR7NSC8Q4X20BJ",
		AccountID:   "123837392027",
	}
	t.Run("trail deleted", func(t *testing.T) {
		evs := at(t, "raw", raw, byEventID("c0057a42-1625-4b1d-9db5-352f931f790a"))
		check(t, evs, event.Event{
			Time:          utc("2023-07-10T12:08:04Z"),
			Provider:      event.ProviderAWSSecretsManager,
			Format:        event.FormatCloudTrail,
			Vault:         invictusVault,
			Operation:     event.Operation{Name: "DeleteTrail", Class: event.ClassAuditConfig, Detail: "deleted the CloudTrail trail"},
			Object:        event.Object{Kind: event.KindPath, Name: "stratus-red-team-ctlr-trail-zqfsvooxqj"},
			Caller:        bert,
			IP:            netip.MustParseAddr("192.168.10.20"),
			UserAgent:     "APN/1.0 HashiCorp/1.0 Terraform/1.1.2 (+https://www.terraform.io) terraform-provider-aws/3.76.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.44.157 (go1.19.3; linux; amd64) HashiCorp-terraform-exec/0.17.3",
			CorrelationID: "f4fe6c6f-475c-4c9c-9c4a-bac1b97602bf",
			Result:        event.Result{Outcome: event.OutcomeSuccess, Status: 200},
			Source:        event.Location{File: "raw", Line: 1},
		})
	})
	t.Run("trail not found", func(t *testing.T) {
		evs := at(t, "raw", raw, byEventID("b7e19efd-92be-4182-bbbc-b6468296710b"))
		if len(evs) != 1 || evs[0].Operation.Class != event.ClassAuditConfig || evs[0].Operation.Detail != "" ||
			evs[0].Result != (event.Result{Outcome: event.OutcomeNotFound, Status: 404, Reason: "TrailNotFoundException"}) {
			t.Fatalf("got %+v", evs)
		}
	})
	t.Run("event selectors", func(t *testing.T) {
		evs := at(t, "raw", raw, byEventID("3d6df238-f83c-4a34-bea8-45cf80a2050b"))
		if len(evs) != 1 || evs[0].Object.Name != "stratus-red-team-ctes-trail-qyxyekjbtk" ||
			evs[0].Operation.Detail != "changed the event selectors of the trail: management events still logged" {
			t.Fatalf("got %+v", evs)
		}
	})

	t.Run("batch read by tag", func(t *testing.T) {
		recs := readRecords(t, filepath.Join(dir, "cloudtrail-secretsmanager-batchgetsecretvalue-stratus-red-team.json"))
		evs := at(t, "batch", recs, byEventID("61619dbf-c10b-471e-9d78-8199a2f8233a"))
		if len(evs) != 1 {
			t.Fatalf("%d events, want 1", len(evs))
		}
		e := evs[0]
		if e.Vault.ID != "aws:165109126369:eu-westwest-1r" || e.Operation.Class != event.ClassRead ||
			e.Object != (event.Object{Kind: event.KindSecret}) || e.Caller.ARN != "arn:aws:iam::165109126369:user/christophe" {
			t.Errorf("got %+v", e)
		}
	})
}

// check compares events with the one event wanted.
func check(t *testing.T, got []event.Event, want event.Event) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("%d events, want 1", len(got))
	}
	g, w := got[0], want
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.MarshalIndent(g, "", "  ")
		wj, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("got\n%s\nwant\n%s", gj, wj)
	}
}

// TestDetectOtherFormats checks that Detect refuses every record of the
// other formats' samples.
func TestDetectOtherFormats(t *testing.T) {
	dir := testutil.Samples(t)
	var files []string
	for _, pattern := range []string{"azure-kv-*.jsonl", "vault-audit-*.jsonl", "vault-audit-*.json", "gcp-*.json"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no samples of other formats")
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
	t.Logf("%d records of other formats refused", n)
}
