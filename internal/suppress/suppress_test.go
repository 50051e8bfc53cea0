package suppress

import (
	"errors"
	"testing"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/store"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func sample() alert.Alert {
	return alert.Alert{
		ID: "vw-1", Type: alert.TorAccess, Severity: alert.SeverityMedium,
		Vault: alert.Vault{Provider: "azure-keyvault", ID: "/subscriptions/s/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv-pay", Name: "kv-pay"},
		Entities: alert.Entities{
			IPs:       []alert.IP{{Address: "185.220.101.4", Classification: []string{"tor", "public"}}, {Address: "10.1.2.3", Classification: []string{"private"}}},
			ObjectIDs: []string{"6c0e5a2b-0000-4000-8000-000000000001"}, UPNs: []string{"Ana@Contoso.com"}, AppIDs: []string{"04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
		},
		Evidence: alert.Evidence{Objects: []alert.Object{{Kind: "secret", Name: "db-password"}}},
	}
}

func TestMatchers(t *testing.T) {
	a := sample()
	for _, c := range []struct {
		m    store.Matcher
		want bool
	}{
		{store.Matcher{Field: "vault", Op: "=", Value: "kv-pay"}, true},
		{store.Matcher{Field: "vault", Op: "=", Value: a.Vault.ID}, true},
		{store.Matcher{Field: "vault_name", Op: "=", Value: "kv-other"}, false},
		{store.Matcher{Field: "vault_name", Op: "!=", Value: "kv-other"}, true},
		{store.Matcher{Field: "upn", Op: "=", Value: "ana@contoso.com"}, true}, // case-insensitive
		{store.Matcher{Field: "upn", Op: "!=", Value: "ana@contoso.com"}, false},
		{store.Matcher{Field: "upn", Op: "=~", Value: ".*@contoso\\.com"}, true},
		{store.Matcher{Field: "upn", Op: "=~", Value: "contoso"}, false}, // anchored
		{store.Matcher{Field: "ip", Op: "cidr", Value: "185.220.100.0/22"}, true},
		{store.Matcher{Field: "ip", Op: "cidr", Value: "192.0.2.0/24"}, false},
		{store.Matcher{Field: "ip", Op: "=", Value: "10.1.2.3"}, true}, // any of the addresses
		{store.Matcher{Field: "ip", Op: "!=", Value: "10.1.2.3"}, false},
		{store.Matcher{Field: "principal", Op: "=", Value: "04b07795-8ddb-461a-bbee-02f9e1bf7b46"}, true},
		{store.Matcher{Field: "object", Op: "=~", Value: "db-.*"}, true},
		{store.Matcher{Field: "classification", Op: "=", Value: "tor"}, true},
		{store.Matcher{Field: "severity", Op: "=", Value: "high"}, false},
		{store.Matcher{Field: "arn", Op: "!=", Value: "x"}, true}, // no value: none equal
		{store.Matcher{Field: "arn", Op: "=", Value: "x"}, false},
	} {
		r, err := Compile(store.Rule{ID: "r", Matchers: []store.Matcher{c.m}, StartsAt: t0})
		if err != nil {
			t.Fatalf("%+v: %v", c.m, err)
		}
		if got := r.Matches(&a); got != c.want {
			t.Errorf("%s %s %q: %v, want %v", c.m.Field, c.m.Op, c.m.Value, got, c.want)
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, r := range []store.Rule{
		{Matchers: []store.Matcher{{Field: "colour", Op: "=", Value: "x"}}},
		{Matchers: []store.Matcher{{Field: "upn", Op: "~", Value: "x"}}},
		{Matchers: []store.Matcher{{Field: "upn", Op: "=~", Value: "("}}},
		{Matchers: []store.Matcher{{Field: "upn", Op: "cidr", Value: "10.0.0.0/8"}}},
		{Matchers: []store.Matcher{{Field: "ip", Op: "cidr", Value: "10.0.0.0/33"}}},
		{Type: "no-such-type"},
		{}, // would silence everything
		{Type: alert.TorAccess, Reason: "because"}, // unknown reason
		{Type: alert.TorAccess, StartsAt: t0, EndsAt: t0.Add(-time.Hour)},
	} {
		if _, err := Compile(r); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%+v: err %v, want ErrInvalid", r, err)
		}
	}
}

func TestStateAndSet(t *testing.T) {
	a := sample()
	rules := []store.Rule{
		{ID: "disabled", Type: alert.TorAccess, StartsAt: t0, Disabled: true},
		{ID: "later", Type: alert.TorAccess, StartsAt: t0.Add(time.Hour)},
		{ID: "expired", Type: alert.TorAccess, StartsAt: t0.Add(-2 * time.Hour), EndsAt: t0},
		{ID: "other-type", Type: alert.DecoySecretAccess, StartsAt: t0},
		{ID: "match", Type: alert.TorAccess, StartsAt: t0, Matchers: []store.Matcher{{Field: "vault_name", Op: "=", Value: "kv-pay"}}},
	}
	states := map[string]string{"disabled": StateDisabled, "later": StatePending, "expired": StateExpired, "other-type": StateEnabled, "match": StateEnabled}
	for _, r := range rules {
		if got := State(&r, t0); got != states[r.ID] {
			t.Errorf("rule %s: state %s, want %s", r.ID, got, states[r.ID])
		}
	}
	s, err := NewSet(rules)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Match(&a, t0); r == nil || r.ID != "match" {
		t.Fatalf("match at t0: %v, want rule match", r)
	}
	if r := s.Match(&a, t0.Add(2*time.Hour)); r == nil || r.ID != "later" {
		t.Fatalf("match later: %v, want rule later (older in the list)", r)
	}
	var none *Set
	if none.Match(&a, t0) != nil {
		t.Error("a nil set matched")
	}
	if _, err := NewSet(append(rules, store.Rule{ID: "bad", Matchers: []store.Matcher{{Field: "nope", Op: "=", Value: "x"}}})); err == nil {
		t.Error("a bad rule was not reported")
	}
}

func TestFromAlertMatchesItsAlertAndSimulate(t *testing.T) {
	a := sample()
	r := FromAlert(&a)
	r.StartsAt = t0
	c, err := Compile(r)
	if err != nil {
		t.Fatal(err)
	}
	other := sample()
	other.Entities.UPNs = []string{"eve@contoso.com"}
	third := sample()
	third.Type = alert.UnusualIP
	got := Simulate(c, []alert.Alert{a, other, third})
	if len(got) != 1 || got[0].ID != a.ID {
		t.Fatalf("simulate: %d alerts, want only the alert the rule was made from", len(got))
	}
}
