package simulate

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"
)

// attackTestOrg builds a small organisation by hand: Azure and Vault
// vaults, users (some admins) and apps with their usual networks.
func attackTestOrg(days, learning int) *Org {
	o := &Org{
		Name: "Contoso", Domain: "contoso.com", TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
		Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Days: days, LearningDays: learning,
		Formats: []Provider{Azure, HashiVault},
	}
	for i := range 8 {
		v := &Vault{Name: fmt.Sprintf("kv-team%d-prod", i), Provider: Azure, Team: fmt.Sprintf("team%d", i),
			Subscription: "6a1f3c52-0b7e-4c1d-9f2a-3e4d5c6b7a80", ResourceGroup: "RG-PROD", Location: "westeurope",
			Versions: map[string]string{}}
		if i >= 6 {
			v.Name, v.Provider = fmt.Sprintf("kv-team%d", i), HashiVault
		}
		for j := range 6 + i {
			s := fmt.Sprintf("svc%d-secret-%02d", i, j)
			v.Secrets = append(v.Secrets, s)
			v.Versions[s] = fmt.Sprintf("%032x", i*100+j)
		}
		v.Keys = []string{"cmk-storage", "signing-key"}
		if i%2 == 0 {
			v.Decoys = []string{"legacy-admin-password"}
			v.Secrets = append(v.Secrets, "legacy-admin-password")
		}
		o.Vaults = append(o.Vaults, v)
	}
	gmt := time.FixedZone("GMT", 0)
	for i := range 24 {
		u := &Principal{Kind: KindUser, Name: fmt.Sprintf("user%02d", i),
			ObjectID: fmt.Sprintf("0000%04d-1111-4111-8111-000000000000", i), AppID: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
			UPN: fmt.Sprintf("user%02d@contoso.com", i), TenantID: o.TenantID, VaultEntity: fmt.Sprintf("e%07d-2222-4222-8222-000000000000", i),
			VaultRole: "oidc", Accessor: fmt.Sprintf("acc%021d", i), UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0.0.0",
			Country: "GB", TZ: gmt, Networks: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("81.128.%d.0/27", i))},
			Admin: i%6 == 0, Vaults: []*Vault{o.Vaults[i%8]}}
		if u.Admin {
			u.Vaults = append(u.Vaults, o.Vaults[(i+1)%8])
		}
		o.Users = append(o.Users, u)
	}
	for i := range 12 {
		kind := KindServicePrincipal
		if i%3 == 2 {
			kind = KindManagedIdentity
		}
		a := &Principal{Kind: kind, Name: fmt.Sprintf("app%02d", i),
			ObjectID: fmt.Sprintf("0000%04d-3333-4333-8333-000000000000", i), AppID: fmt.Sprintf("0000%04d-4444-4444-8444-000000000000", i),
			TenantID: o.TenantID, VaultEntity: fmt.Sprintf("a%07d-5555-4555-8555-000000000000", i), VaultRole: "approle",
			UserAgent: "azsdk-net-Security.KeyVault.Secrets/4.5.0 (.NET 8.0.10; Linux)", Country: "NL", TZ: time.UTC,
			Networks: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("20.50.%d.0/28", i))}, Vaults: []*Vault{o.Vaults[i%8]}}
		o.Apps = append(o.Apps, a)
	}
	return o
}

func TestPlanAttacksDeterministic(t *testing.T) {
	in := fallbackIntel(7)
	acc1, lab1 := PlanAttacks(attackTestOrg(30, 7), in, 42)
	acc2, lab2 := PlanAttacks(attackTestOrg(30, 7), in, 42)
	j1, _ := json.Marshal(lab1)
	j2, _ := json.Marshal(lab2)
	if string(j1) != string(j2) {
		t.Fatalf("labels differ between runs with the same seed")
	}
	if len(acc1) != len(acc2) {
		t.Fatalf("accesses: %d then %d", len(acc1), len(acc2))
	}
	for i := range acc1 {
		if s1, s2 := atkAccessKey(acc1[i]), atkAccessKey(acc2[i]); s1 != s2 {
			t.Fatalf("access %d differs:\n%s\n%s", i, s1, s2)
		}
	}
	_, lab3 := PlanAttacks(attackTestOrg(30, 7), in, 43)
	j3, _ := json.Marshal(lab3)
	if string(j1) == string(j3) {
		t.Errorf("seeds 42 and 43 gave the same attacks")
	}
}

// atkAccessKey prints an access with its principal's identifiers, not its
// pointer.
func atkAccessKey(a Access) string {
	p := a.Principal
	return fmt.Sprintf("%s %s %s %s %s %s %d %v %s|%s|%s|%s|%s|%s", a.Time.Format(time.RFC3339Nano), a.Vault.Name, a.Op, a.Object,
		a.Version, a.IP, a.Status, a.Root, p.Name, p.ObjectID, p.AppID, p.UPN, p.VaultEntity, p.UserAgent)
}

func TestPlanAttacksScenarios(t *testing.T) {
	tests := []struct {
		name           string
		days, learning int
		minPer         int // attacks per scenario at least
	}{
		{"default", 30, 7, 2},
		{"short", 10, 7, 1},
		{"one test day", 8, 7, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := attackTestOrg(tc.days, tc.learning)
			in := fallbackIntel(1)
			acc, labels := PlanAttacks(o, in, 3)
			count := map[string]int{}
			for _, l := range labels {
				count[l.Scenario]++
			}
			for _, s := range AttackScenarios() {
				if s == "slow-exfiltration" && tc.days-tc.learning < 2 {
					continue
				}
				if count[s] < tc.minPer {
					t.Errorf("scenario %s: %d attacks, want >= %d", s, count[s], tc.minPer)
				}
			}
			// Spread: several attacks of a kind fall on different days, and
			// the attacks touch most vaults.
			days := map[string]map[string]bool{}
			vaults := map[string]bool{}
			for _, l := range labels {
				if days[l.Scenario] == nil {
					days[l.Scenario] = map[string]bool{}
				}
				days[l.Scenario][l.Start.Format(time.DateOnly)] = true
				for _, v := range l.Vaults {
					vaults[v] = true
				}
			}
			for s, n := range count {
				if n >= 2 && tc.days-tc.learning >= n && len(days[s]) < 2 {
					t.Errorf("scenario %s: %d attacks all on one day", s, n)
				}
			}
			if len(vaults) < len(o.Vaults)*3/4 {
				t.Errorf("attacks touch %d of %d vaults", len(vaults), len(o.Vaults))
			}
			atkCheckLabels(t, o, in, acc, labels)
		})
	}
}

func TestPlanAttacksNone(t *testing.T) {
	tests := []struct {
		name string
		o    *Org
	}{
		{"no test days", attackTestOrg(7, 7)},
		{"no vaults", &Org{Days: 30, LearningDays: 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if acc, labels := PlanAttacks(tc.o, fallbackIntel(1), 1); len(acc) != 0 || len(labels) != 0 {
				t.Errorf("got %d accesses, %d labels; want none", len(acc), len(labels))
			}
		})
	}
}

func TestPlanAttacksAzureOnly(t *testing.T) {
	o := attackTestOrg(30, 7)
	o.Vaults = o.Vaults[:6] // no Vault mounts
	for _, p := range slices.Concat(o.Users, o.Apps) {
		p.Vaults = slices.DeleteFunc(p.Vaults, func(v *Vault) bool { return v.Provider != Azure })
		p.VaultEntity = ""
	}
	in := fallbackIntel(1)
	acc, labels := PlanAttacks(o, in, 9)
	for _, l := range labels {
		if l.Scenario == "audit-tampering" || l.Scenario == "privileged-token-use" {
			t.Errorf("Vault-only scenario %s planned without a Vault vault", l.Scenario)
		}
	}
	if len(labels) < 18 {
		t.Errorf("%d labels, want every Azure scenario", len(labels))
	}
	atkCheckLabels(t, o, in, acc, labels)
}

// atkCheckLabels checks the labels against the accesses: windows, entities,
// attacker addresses, and that nothing happens before the test period.
func atkCheckLabels(t *testing.T, o *Org, in *Intel, acc []Access, labels []Label) {
	t.Helper()
	if !slices.IsSortedFunc(acc, func(x, y Access) int { return x.Time.Compare(y.Time) }) {
		t.Errorf("accesses not sorted by time")
	}
	ids := map[string]bool{}
	for i, l := range labels {
		if want := fmt.Sprintf("atk-%03d", i+1); l.ID != want {
			t.Errorf("label %d id %q, want %q", i, l.ID, want)
		}
		ids[l.ID] = true
		if l.Description == "" || len(l.ExpectedAlerts) == 0 || len(l.Vaults) == 0 || len(l.Vaults) != len(l.Providers) {
			t.Errorf("%s: incomplete label %+v", l.ID, l)
		}
		if l.End.Before(l.Start) {
			t.Errorf("%s: ends before it starts", l.ID)
		}
	}
	// Attribute each access to the labels whose window and vaults hold it;
	// every label must have accesses carrying each of its entities.
	seen := make([]map[string]bool, len(labels))
	for i := range seen {
		seen[i] = map[string]bool{}
	}
	for _, a := range acc {
		if a.Time.Before(o.TestStart()) || !a.Time.Before(o.End()) {
			t.Errorf("access at %s outside the test period [%s, %s)", a.Time, o.TestStart(), o.End())
		}
		if a.Principal == nil || a.Vault == nil || !a.IP.IsValid() {
			t.Fatalf("incomplete access %+v", a)
		}
		if !slices.Contains(o.Vaults, a.Vault) {
			t.Errorf("access on a vault not of the org: %s", a.Vault.Name)
		}
		inside := false
		for i, l := range labels {
			if a.Time.Before(l.Start) || a.Time.After(l.End) || !slices.Contains(l.Vaults, logVaultName(&a)) {
				continue
			}
			if !slices.Contains(l.Entities.IPs, a.IP.String()) {
				continue
			}
			inside = true
			p := a.Principal
			for _, s := range []string{"ip:" + a.IP.String(), "oid:" + p.ObjectID, "upn:" + p.UPN, "app:" + p.AppID, "ve:" + p.VaultEntity, "arn:" + p.ARN} {
				seen[i][s] = true
			}
		}
		if !inside {
			t.Errorf("access %s lies in no label's window", atkAccessKey(a))
		}
	}
	for i, l := range labels {
		check := func(kind string, vals []string) {
			for _, v := range vals {
				if !seen[i][kind+v] {
					t.Errorf("%s (%s): entity %s%s in no access of the attack", l.ID, l.Scenario, kind, v)
				}
			}
		}
		e := l.Entities
		check("ip:", e.IPs)
		check("oid:", e.ObjectIDs)
		check("upn:", e.UPNs)
		check("app:", e.AppIDs)
		check("ve:", e.VaultEntities)
		check("arn:", e.ARNs)
		if len(e.IPs) == 0 {
			t.Errorf("%s: no attacker address", l.ID)
		}
		for _, s := range e.IPs {
			ip := netip.MustParseAddr(s)
			switch l.Scenario {
			case "tor-access":
				if !in.IsTor(ip) || in.IsReputation(ip) {
					t.Errorf("%s: tor attacker %s: tor %v, reputation %v", l.ID, ip, in.IsTor(ip), in.IsReputation(ip))
				}
			case "suspicious-ip-access", "suspicious-ip-denied":
				if !in.IsReputation(ip) || in.IsTor(ip) || intelInPrefixes(ip, intelCloudPrefixes) {
					t.Errorf("%s: suspicious attacker %s not an unambiguous reputation-list address", l.ID, ip)
				}
			default:
				if in.Listed(ip) {
					t.Errorf("%s (%s): attacker %s is on a threat list", l.ID, l.Scenario, ip)
				}
			}
			if l.Scenario == "unusual-ip" && !intelInPrefixes(ip, intelAzurePrefixes) {
				t.Errorf("%s: unusual-ip attacker %s not in an Azure datacenter prefix", l.ID, ip)
			}
		}
		if l.Scenario == "unusual-ip" || l.Scenario == "slow-exfiltration" {
			if len(e.ObjectIDs)+len(e.VaultEntities) == 0 {
				t.Errorf("%s: stolen credential without identity", l.ID)
			}
		}
	}
}

// TestPlanAttacksShapes checks what each scenario does, on one plan.
func TestPlanAttacksShapes(t *testing.T) {
	o := attackTestOrg(30, 7)
	acc, labels := PlanAttacks(o, fallbackIntel(5), 11)
	byLabel := map[string][]Access{}
	for _, l := range labels {
		for _, a := range acc {
			if !a.Time.Before(l.Start) && !a.Time.After(l.End) && slices.Contains(l.Vaults, logVaultName(&a)) && slices.Contains(l.Entities.IPs, a.IP.String()) {
				byLabel[l.ID] = append(byLabel[l.ID], a)
			}
		}
	}
	ops := func(as []Access) map[Op]int {
		m := map[Op]int{}
		for _, a := range as {
			m[a.Op]++
		}
		return m
	}
	statuses := func(as []Access) map[int]int {
		m := map[int]int{}
		for _, a := range as {
			m[a.Status]++
		}
		return m
	}
	for _, l := range labels {
		as := byLabel[l.ID]
		om, sm := ops(as), statuses(as)
		fail := func(why string) { t.Errorf("%s %s: %s (ops %v, statuses %v)", l.ID, l.Scenario, why, om, sm) }
		decoyRead := false
		for _, a := range as {
			if a.Op == OpSecretGet && slices.Contains(a.Vault.Decoys, a.Object) {
				decoyRead = true
			}
		}
		if decoyRead != (l.Scenario == "decoy-secret-access") {
			fail(fmt.Sprintf("decoy read %v", decoyRead))
		}
		if (l.Scenario == "denied-many-vaults" || l.Scenario == "many-vaults") && len(l.Vaults) < 4 {
			fail(fmt.Sprintf("only %d vaults", len(l.Vaults)))
		}
		switch l.Scenario {
		case "suspicious-ip-denied", "unusual-user-denied", "denied-many-vaults":
			if sm[403] != len(as) {
				fail("not all denied")
			}
		case "credential-probing":
			if sm[401] != len(as) || len(as) < 12 {
				fail("not a burst of 401s")
			}
		case "high-volume-operations":
			if om[OpSecretGet] < 150 {
				fail("not a high volume")
			}
		case "policy-change-then-secret-get":
			if om[OpPolicyChange] != 1 || om[OpSecretGet] == 0 || as[slices.IndexFunc(as, func(a Access) bool { return a.Op == OpSecretGet })].Time.Before(as[slices.IndexFunc(as, func(a Access) bool { return a.Op == OpPolicyChange })].Time) {
				fail("no policy change before the reads")
			}
		case "list-then-get":
			if as[0].Op != OpSecretList || om[OpSecretGet] < 5 {
				fail("no list then reads")
			}
		case "audit-tampering":
			if om[OpAuditDisable] != 1 || l.Providers[0] != HashiVault {
				fail("no audit device disabled on Vault")
			}
		case "privileged-token-use":
			root := 0
			for _, a := range as {
				if a.Root {
					root++
				}
			}
			if root == 0 {
				fail("no root-token call")
			}
		case "destructive-burst":
			if del := om[OpSecretDelete] + om[OpKeyDelete]; del < 5 || l.End.Sub(l.Start) > 30*time.Minute {
				fail(fmt.Sprintf("%d deletes in %s", del, l.End.Sub(l.Start)))
			}
		case "slow-exfiltration":
			if l.End.Sub(l.Start) < 20*time.Hour || om[OpSecretGet] != len(as) {
				fail(fmt.Sprintf("lasts %s", l.End.Sub(l.Start)))
			}
		case "unusual-user-app-pair":
			for _, a := range as {
				if u := atkFindUser(o, a.Principal.ObjectID); u == nil || u.AppID == a.Principal.AppID || u.UPN != a.Principal.UPN {
					fail("not a known user through another app")
					break
				}
			}
		case "unusual-user":
			for _, a := range as {
				if slices.Contains(a.Principal.Vaults, a.Vault) {
					fail("user already uses the vault")
					break
				}
			}
		}
	}
}

func atkFindUser(o *Org, oid string) *Principal {
	for _, u := range o.Users {
		if u.ObjectID == oid {
			return u
		}
	}
	return nil
}

func TestAtkEntities(t *testing.T) {
	az := &Vault{Name: "kv-a", Provider: Azure}
	hv := &Vault{Name: "kv-b", Provider: HashiVault}
	u := &Principal{ObjectID: "oid-1", UPN: "u@contoso.com", AppID: "app-1", VaultEntity: "ent-1"}
	ip1, ip2 := netip.MustParseAddr("203.0.113.1"), netip.MustParseAddr("198.51.100.2")
	got := atkEntities([]Access{
		{Vault: az, Principal: u, IP: ip1, Status: 200},
		{Vault: hv, Principal: u, IP: ip1, Status: 403},
		{Vault: hv, Principal: &Principal{VaultEntity: "ent-root"}, IP: ip2, Root: true, Status: 200},
		{Vault: az, Principal: &Principal{ObjectID: "oid-anon"}, IP: ip2, Status: 401},
	})
	want := Entities{IPs: []string{"203.0.113.1", "198.51.100.2"}, ObjectIDs: []string{"oid-1"}, UPNs: []string{"u@contoso.com"},
		AppIDs: []string{"app-1"}, VaultEntities: []string{"ent-1"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("atkEntities = %+v, want %+v", got, want)
	}
}
