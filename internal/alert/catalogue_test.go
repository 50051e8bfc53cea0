package alert

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The catalogue of issue 4, in its order: id, Defender id, severity, and
// the tactics the issue names (others are ours, checked for presence only).
var issueCatalogue = []struct {
	typ      Type
	defender string
	severity Severity
	tactics  []string
}{
	{"tor-access", "KV_TORAccess", SeverityMedium, []string{"credential-access"}},
	{"suspicious-ip-access", "KV_SuspiciousIPAccess", SeverityMedium, nil},
	{"suspicious-ip-denied", "KV_SuspiciousIPAccessDenied", SeverityLow, nil},
	{"unusual-ip", "KV_UnusualAccessSuspiciousIP", SeverityMedium, nil},
	{"unusual-application", "KV_AppAnomaly", SeverityMedium, nil},
	{"unusual-user", "KV_UserAnomaly", SeverityMedium, nil},
	{"unusual-user-app-pair", "KV_UserAppAnomaly", SeverityMedium, nil},
	{"high-volume-operations", "KV_OperationVolumeAnomaly", SeverityMedium, nil},
	{"unusual-operation-pattern", "KV_OperationPatternAnomaly", SeverityMedium, nil},
	{"policy-change-then-secret-get", "KV_PutGetAnomaly", SeverityMedium, nil},
	{"list-then-get", "KV_ListGetAnomaly", SeverityMedium, nil},
	{"unusual-user-denied", "KV_UserAccessDeniedAnomaly", SeverityLow, []string{"initial-access", "discovery"}},
	{"denied-many-vaults", "KV_AccountVolumeAccessDeniedAnomaly", SeverityLow, []string{"discovery"}},
	{"many-vaults", "KV_AccountVolumeAnomaly", SeverityMedium, nil},
	{"decoy-secret-access", "", SeverityHigh, nil},
	{"audit-tampering", "", SeverityHigh, []string{"defense-evasion"}},
	{"privileged-token-use", "", SeverityHigh, nil},
	{"destructive-burst", "", SeverityHigh, []string{"impact"}},
	{"crypto-volume", "", SeverityMedium, nil},
	{"credential-probing", "", SeverityLow, nil},
	{"cross-provider-access", "", SeverityMedium, nil},
}

var knownTactics = []string{TacticInitialAccess, TacticPrivilegeEscalation, TacticDefenseEvasion, TacticCredentialAccess, TacticDiscovery, TacticImpact}

func TestCatalogueMatchesIssue(t *testing.T) {
	cat := Catalogue()
	if len(cat) != 21 || len(cat) != len(issueCatalogue) {
		t.Fatalf("catalogue has %d types, want 21", len(cat))
	}
	technique := regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	seen := map[Type]bool{}
	for i, want := range issueCatalogue {
		got := cat[i]
		t.Run(string(want.typ), func(t *testing.T) {
			if got.Type != want.typ {
				t.Fatalf("entry %d is %q, want %q", i, got.Type, want.typ)
			}
			if seen[got.Type] {
				t.Errorf("duplicate type %q", got.Type)
			}
			seen[got.Type] = true
			if got.Severity != want.severity {
				t.Errorf("severity %q, want %q", got.Severity, want.severity)
			}
			if got.Defender != want.defender {
				t.Errorf("Defender id %q, want %q", got.Defender, want.defender)
			}
			if want.tactics != nil && !slices.Equal(got.Tactics, want.tactics) {
				t.Errorf("tactics %v, want %v", got.Tactics, want.tactics)
			}
			if len(got.Tactics) == 0 {
				t.Error("no tactic")
			}
			for _, tc := range got.Tactics {
				if !slices.Contains(knownTactics, tc) {
					t.Errorf("tactic %q is not an ATT&CK tactic short name", tc)
				}
			}
			if !technique.MatchString(got.Technique) {
				t.Errorf("technique %q is not an ATT&CK id", got.Technique)
			}
			if got.Title == "" || len(got.Description) < 80 || strings.Contains(got.Description, "\n") {
				t.Errorf("title %q / description %q: want a title and one paragraph", got.Title, got.Description)
			}
			if l, ok := Lookup(got.Type); !ok || l.Type != got.Type {
				t.Errorf("Lookup(%q) = %v, %v", got.Type, l.Type, ok)
			}
		})
	}
	if _, ok := Lookup("no-such-type"); ok {
		t.Error("Lookup of an unknown type succeeded")
	}
}

func TestCatalogueReturnsCopies(t *testing.T) {
	c := Catalogue()
	c[0].Tactics[0] = "changed"
	c[0].Title = "changed"
	l, _ := Lookup(c[0].Type)
	l.Tactics[0] = "changed too"
	if got := Catalogue()[0]; got.Title == "changed" || got.Tactics[0] != TacticCredentialAccess {
		t.Errorf("the catalogue was changed through a returned value: %+v", got)
	}
}

func TestFill(t *testing.T) {
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	base := func() Alert {
		return Alert{
			Type: DecoySecretAccess, StartTime: start, EndTime: start.Add(time.Minute),
			Vault:    Vault{Provider: "azure-keyvault", ID: "azure-keyvault:kv-pay", Name: "kv-pay"},
			Entities: Entities{IPs: []IP{{Address: "198.51.100.7"}}, ObjectIDs: []string{"oid-1"}},
		}
	}
	a := base()
	a.Fill()
	if a.Title != "Decoy secret read" || a.Severity != SeverityHigh || a.Technique != "T1555.006" || !slices.Equal(a.Tactics, []string{TacticCredentialAccess}) {
		t.Errorf("catalogue fields not filled: %+v", a)
	}
	if !regexp.MustCompile(`^vw-[0-9a-f]{16}$`).MatchString(a.ID) {
		t.Errorf("id %q, want vw- and 16 hex digits", a.ID)
	}
	if len(a.Remediation) != 4 || a.Remediation[0].Title != StepIdentify || a.Remediation[3].Title != StepRotate {
		t.Errorf("remediation: %+v", a.Remediation)
	}

	// Set values are kept.
	k := base()
	k.Severity, k.Title, k.ID = SeverityLow, "mine", "vw-given"
	k.Remediation = []Step{{Title: "custom"}}
	k.Fill()
	if k.Severity != SeverityLow || k.Title != "mine" || k.ID != "vw-given" || len(k.Remediation) != 1 {
		t.Errorf("Fill overwrote set fields: %+v", k)
	}

	// The id is stable, and depends on type, vault, first entity and start.
	again := base()
	again.Fill()
	if again.ID != a.ID {
		t.Errorf("id not stable: %q then %q", a.ID, again.ID)
	}
	again.EndTime = again.EndTime.Add(time.Hour)
	again.Count = 99
	if again.StableID() != a.ID {
		t.Error("id depends on the end time or count")
	}
	for name, change := range map[string]func(*Alert){
		"type":   func(x *Alert) { x.Type = TorAccess },
		"vault":  func(x *Alert) { x.Vault.ID = "azure-keyvault:kv-other" },
		"entity": func(x *Alert) { x.Entities.ObjectIDs = []string{"oid-2"} },
		"start":  func(x *Alert) { x.StartTime = x.StartTime.Add(time.Second) },
	} {
		x := base()
		change(&x)
		if x.StableID() == a.ID {
			t.Errorf("id does not depend on the %s", name)
		}
	}
	// Unknown types still get an id and a playbook.
	u := base()
	u.Type = "from-the-future"
	u.Fill()
	if u.ID == "" || len(u.Remediation) != 4 || u.Title != "" {
		t.Errorf("unknown type: %+v", u)
	}
}

func TestFirstEntity(t *testing.T) {
	tests := []struct {
		name string
		e    Entities
		want string
	}{
		{"none", Entities{}, ""},
		{"ip only", Entities{IPs: []IP{{Address: "192.0.2.1"}}}, "192.0.2.1"},
		{"principal before ip", Entities{IPs: []IP{{Address: "192.0.2.1"}}, UPNs: []string{"a@b"}}, "a@b"},
		{"object id before upn", Entities{UPNs: []string{"a@b"}, ObjectIDs: []string{"oid"}}, "oid"},
		{"arn", Entities{ARNs: []string{"arn:aws:iam::1:user/x"}, AppIDs: []string{"app"}}, "arn:aws:iam::1:user/x"},
	}
	for _, tt := range tests {
		a := Alert{Entities: tt.e}
		if got := a.FirstEntity(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSamples(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	all, err := Samples(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(Catalogue()) {
		t.Fatalf("%d samples, want one per type (%d)", len(all), len(Catalogue()))
	}
	seen := map[string]bool{}
	for _, a := range all {
		if !a.Sample || !strings.HasPrefix(a.Title, "[SAMPLE] ") || !strings.Contains(a.Explanation, "sample alert") {
			t.Errorf("%s is not marked as a sample: %+v", a.Type, a)
		}
		if len(a.Remediation) != 4 || len(a.Tactics) == 0 || a.Severity == "" || seen[a.ID] {
			t.Errorf("%s: not filled in like a real alert, or its id is not unique", a.Type)
		}
		seen[a.ID] = true
	}
	if _, err := Samples(now, "no-such-type"); err == nil {
		t.Error("an unknown type made a sample")
	}
}
