package event

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	full := Event{
		Time:      time.Date(2024, 4, 3, 14, 3, 10, 788626000, time.UTC),
		Provider:  ProviderAzureKeyVault,
		Format:    FormatAzureKeyVault,
		Vault:     Vault{ID: "/subscriptions/x/vaults/kv-pay", Name: "kv-pay"},
		Operation: Operation{Name: "StopLogging", Class: ClassAuditConfig, Detail: "logging \"stopped\"\n"},
		Object:    Object{Kind: KindSecret, Name: "db-password", Version: "abc"},
		Caller: Caller{Type: IdentityUser, ObjectID: "oid", UPN: "a@b.c", AppID: "app", TenantID: "t",
			DisplayName: "Al <\"x\">\n\u2028", ResourceID: "r", VaultEntityID: "e", TokenAccessor: "hmac-sha256:1",
			Policies: []string{"default", "root"}, ARN: "arn", AccessKeyID: "AKIA", AccountID: "1",
			PrincipalEmail: "p@q", InvokedBy: "svc", Privileged: true},
		IP:            netip.MustParseAddr("2001:db8::1"),
		Host:          "AWS Internal",
		UserAgent:     "ua\t\x01",
		CorrelationID: "c",
		Result:        Result{Outcome: OutcomeDenied, Status: 403, Reason: "Forbidden"},
		Source:        Location{File: "f.json", Line: 3, Source: "s", Offset: 9},
	}
	minimal := Event{
		Time:      time.Date(2024, 4, 3, 14, 3, 10, 0, time.UTC),
		Provider:  ProviderHashiCorpVault,
		Operation: Operation{Name: "read", Class: ClassRead},
		Result:    Result{Outcome: OutcomeSuccess},
		Caller:    Caller{DisplayName: "bad \xff utf8"},
	}
	onlySource := minimal
	onlySource.Source = Location{Source: "kafka", Offset: 7}
	for _, e := range []Event{full, minimal, onlySource} {
		got := e.AppendJSON(nil)
		want, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("AppendJSON wrote invalid JSON: %v\n%s", err, got)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("AppendJSON differs from encoding/json:\n got %s\nwant %s", got, want)
		}
	}
}

func TestObjectKeyIgnoresVersion(t *testing.T) {
	a := Object{Kind: KindSecret, Name: "db", Version: "1"}
	b := Object{Kind: KindSecret, Name: "db", Version: "2"}
	if a.Key() != b.Key() || a.Key() != "secret/db" {
		t.Fatalf("keys %q %q", a.Key(), b.Key())
	}
	if (Object{}).Key() != "" {
		t.Fatal("empty object has a key")
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	e := Event{Time: time.Now().UTC(), Provider: ProviderAzureKeyVault, Vault: Vault{ID: "/subscriptions/x/vaults/kv", Name: "kv"},
		Operation: Operation{Name: "SecretGet", Class: ClassRead}, Object: Object{Kind: KindSecret, Name: "db", Version: "0123456789abcdef"},
		Caller: Caller{Type: IdentityServicePrincipal, ObjectID: "d4ba3e84-0444-4841-aaf7-000000000000", AppID: "3686488a-04fc-4d8a-b967-61f98ec41efe"},
		IP:     netip.MustParseAddr("10.1.2.3"), UserAgent: "azsdk-net-Security.KeyVault.Secrets/4.5.0", CorrelationID: "1216de2d-b866-4950-983f-46775e7fe659",
		Result: Result{Outcome: OutcomeSuccess, Status: 200}, Source: Location{File: "PT1H.json", Line: 12345}}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func TestAppendTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2024, 4, 3, 14, 3, 10, 788626000, time.UTC),
		time.Date(2024, 4, 3, 14, 3, 10, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.FixedZone("x", 3600)),
		time.Date(2026, 1, 2, 3, 4, 5, 100, time.UTC),
		time.Date(12026, 1, 2, 3, 4, 5, 100, time.UTC),
	} {
		got := string(appendTime(nil, tm))
		if want := tm.UTC().Format(time.RFC3339Nano); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}
