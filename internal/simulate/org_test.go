package simulate

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"vaultwatch/internal/testutil"
)

func TestNewOrgDeterministic(t *testing.T) {
	a, b := NewOrg(Options{Seed: 3}), NewOrg(Options{Seed: 3})
	// The behaviour plans are keyed by each org's own vault pointers; the
	// traffic tests check that the days they make are identical.
	pa, pb := a.plan, b.plan
	a.plan, b.plan = nil, nil
	defer func() { a.plan, b.plan = pa, pb }()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two orgs from the same seed differ")
	}
	c := NewOrg(Options{Seed: 4})
	if a.TenantID == c.TenantID || reflect.DeepEqual(a.Users[0], c.Users[0]) {
		t.Fatal("orgs from different seeds are the same")
	}
}

func TestNewOrgDefaults(t *testing.T) {
	o := NewOrg(Options{Seed: 1})
	if len(o.Vaults) != DefaultVaults || o.Days != DefaultDays || o.LearningDays != DefaultLearningDays ||
		!o.Start.Equal(DefaultStart) || !slices.Equal(o.Formats, []Provider{Azure, HashiVault}) {
		t.Fatalf("defaults: %d vaults, %d days, %d learning, %v, %v", len(o.Vaults), o.Days, o.LearningDays, o.Start, o.Formats)
	}
}

var (
	reUPN   = regexp.MustCompile(`^[a-z]+\.[a-z]+[0-9]*@[a-z.-]+$`)
	reGUID  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	reMIRes = regexp.MustCompile(`^/subscriptions/[0-9a-f-]{36}/resourcegroups/[a-z0-9-]+/providers/Microsoft\.(ManagedIdentity/userAssignedIdentities|Storage/storageAccounts)/[a-z0-9-]+$`)
	reHex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// notPublic are ranges no real caller on the internet has.
var notPublic = orgPrefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
	"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "169.254.0.0/16", "0.0.0.0/8", "224.0.0.0/3")

func TestNewOrgShape(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"default", Options{Seed: 11}},
		{"three formats", Options{Seed: 12, Vaults: 5, Formats: []Provider{Azure, HashiVault, AWS}}},
		{"one vault", Options{Seed: 13, Vaults: 1, Formats: []Provider{HashiVault}}},
		{"big", Options{Seed: 14, Vaults: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOrg(tt.opts)
			if !reGUID.MatchString(o.TenantID) || o.Name == "" || o.Domain == "" {
				t.Errorf("org identity: %q %q %q", o.Name, o.Domain, o.TenantID)
			}
			if want := max(150, 25*len(o.Vaults)); len(o.Users) < want {
				t.Errorf("%d users, want at least %d", len(o.Users), want)
			}
			names := map[string]bool{}
			for _, v := range o.Vaults {
				if names[v.Name] {
					t.Errorf("duplicate vault name %s", v.Name)
				}
				names[v.Name] = true
				checkVault(t, v)
			}
			upns := map[string]bool{}
			countries := map[string]int{}
			admins := map[string]int{}
			for _, u := range o.Users {
				if !reUPN.MatchString(u.UPN) || upns[u.UPN] {
					t.Errorf("bad or duplicate UPN %q", u.UPN)
				}
				upns[u.UPN] = true
				countries[u.Country]++
				if u.Admin {
					admins[u.Team]++
				}
				if u.TZ == nil || !reGUID.MatchString(u.ObjectID) || u.AppID == "" || u.UserAgent == "" {
					t.Errorf("user %s incomplete: %+v", u.Name, u)
				}
				checkNetworks(t, u)
			}
			if len(countries) < 2 || len(countries) > 3 {
				t.Errorf("users in %d countries, want 2-3: %v", len(countries), countries)
			}
			for team, n := range admins {
				if n < 2 || n > 3 {
					t.Errorf("team %s has %d admins", team, n)
				}
			}
			for _, a := range o.Apps {
				if a.Kind == KindManagedIdentity && !reMIRes.MatchString(a.MIResource) {
					t.Errorf("app %s: managed identity resource %q", a.Name, a.MIResource)
				}
				if len(a.Vaults) > 0 && a.Vaults[0].Provider == HashiVault && (a.VaultEntity == "" || a.Accessor == "" || a.VaultRole == "") {
					t.Errorf("app %s has no Vault identity", a.Name)
				}
				if len(a.Vaults) > 0 && a.Vaults[0].Provider == AWS && (a.ARN == "" || a.AccessKeyID == "") {
					t.Errorf("app %s has no AWS identity", a.Name)
				}
				checkNetworks(t, a)
			}
			for _, s := range o.Services {
				if s.Kind == KindManagedIdentity && !reMIRes.MatchString(s.MIResource) {
					t.Errorf("service %s: resource %q", s.Name, s.MIResource)
				}
				if !strings.HasSuffix(s.Name, ".amazonaws.com") { // calls from the service's name, not an address
					checkNetworks(t, s)
				}
			}
			// Every vault has authorised callers: its team's people and
			// three to six applications (plus automation).
			for _, v := range o.Vaults {
				var users, apps int
				for _, u := range o.Users {
					if slices.Contains(u.Vaults, v) {
						users++
						if u.Team != v.Team {
							t.Errorf("user %s of team %s authorised on %s of team %s", u.Name, u.Team, v.Name, v.Team)
						}
					}
				}
				for _, a := range o.Apps {
					if slices.Contains(a.Vaults, v) && a.Team == v.Team {
						apps++
					}
				}
				if users == 0 || apps < 3 {
					t.Errorf("vault %s: %d users, %d apps authorised", v.Name, users, apps)
				}
			}
		})
	}
}

func checkVault(t *testing.T, v *Vault) {
	t.Helper()
	plain := len(v.Secrets) - len(v.Decoys)
	if plain < 10 || plain > 80 {
		t.Errorf("%s: %d secrets", v.Name, plain)
	}
	if len(v.Decoys) < 1 || len(v.Decoys) > 2 {
		t.Errorf("%s: %d decoys", v.Name, len(v.Decoys))
	}
	for _, d := range v.Decoys {
		if !slices.Contains(v.Secrets, d) {
			t.Errorf("%s: decoy %s not among the secrets", v.Name, d)
		}
	}
	for _, name := range slices.Concat(v.Secrets, v.Keys, v.Certificates) {
		ver := v.Versions[name]
		var ok bool
		switch v.Provider {
		case Azure:
			ok = reHex32.MatchString(ver)
		case HashiVault:
			n, err := strconv.Atoi(ver)
			ok = err == nil && n >= 1
		case AWS:
			ok = reGUID.MatchString(ver)
		}
		if !ok {
			t.Errorf("%s: %s has version %q", v.Name, name, ver)
		}
	}
	switch v.Provider {
	case Azure:
		if v.Subscription == "" || v.ResourceGroup == "" || v.Location == "" || len(v.Keys) == 0 {
			t.Errorf("%s: incomplete Azure vault %+v", v.Name, v)
		}
	case AWS:
		if len(v.Account) != 12 || v.Region == "" {
			t.Errorf("%s: incomplete AWS vault %+v", v.Name, v)
		}
	}
}

func checkNetworks(t *testing.T, p *Principal) {
	t.Helper()
	if len(p.Networks) == 0 {
		t.Errorf("%s has no networks", p.Name)
	}
	for _, n := range p.Networks {
		for _, bad := range notPublic {
			if bad.Overlaps(n) {
				t.Errorf("%s calls from %s, inside %s", p.Name, n, bad)
			}
		}
	}
}

// TestOrgNetworksAvoidThreatIntel checks that the organisation's own
// networks hold no listed address: the intel alerts must come from attacks.
func TestOrgNetworksAvoidThreatIntel(t *testing.T) {
	in, err := LoadIntel(testutil.ThreatIntel(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	listed := slices.Concat(in.Tor, in.Reputation)
	for seed := range uint64(10) {
		o := NewOrg(Options{Seed: seed, Formats: []Provider{Azure, HashiVault, AWS}})
		for _, p := range slices.Concat(o.Users, o.Apps, o.Services) {
			for _, n := range p.Networks {
				for _, a := range listed {
					if n.Contains(a) {
						t.Errorf("seed %d: %s's network %s holds listed %s", seed, p.Name, n, a)
					}
				}
			}
		}
		for _, a := range planFor(o).apps {
			for _, n := range a.moved {
				if slices.ContainsFunc(listed, n.Contains) {
					t.Errorf("seed %d: %s moves to %s, which holds a listed address", seed, a.p.Name, n)
				}
			}
		}
	}
}
