package alert

import (
	"fmt"
	"time"
)

// SampleVault is the vault sample alerts name: it exists nowhere.
var SampleVault = Vault{
	Provider: "azure-keyvault",
	ID:       "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/vaultwatch-sample/providers/microsoft.keyvault/vaults/kv-vaultwatch-sample",
	Name:     "kv-vaultwatch-sample",
}

// Sample returns a clearly marked sample alert of type t at now, filled in
// like a real one (entities, secrets touched, explanation, playbook), to
// check that notifications and exports reach their destinations. Its
// addresses are documentation ranges, its names example.com, its vault
// SampleVault, and its title and explanation say it is a sample. Each call
// makes a new id.
func Sample(t Type, now time.Time) (Alert, error) {
	in, ok := Lookup(t)
	if !ok {
		return Alert{}, fmt.Errorf("unknown alert type %q", t)
	}
	now = now.UTC().Truncate(time.Second)
	a := Alert{
		Type:      t,
		Title:     "[SAMPLE] " + in.Title,
		Sample:    true,
		StartTime: now.Add(-12 * time.Minute),
		EndTime:   now.Add(-2 * time.Minute),
		Vault:     SampleVault,
		Count:     7,
		Entities: Entities{
			IPs:          []IP{{Address: "203.0.113.77", Classification: []string{"public"}}},
			ObjectIDs:    []string{"00000000-0000-4000-8000-00000000cafe"},
			UPNs:         []string{"sample.user@example.com"},
			AppIDs:       []string{"00000000-0000-4000-8000-0000000000a1"},
			DisplayNames: []string{"sample.user@example.com"},
			UserAgents:   []string{"vaultwatch-sample/1.0"},
		},
		Evidence: Evidence{
			Operations: map[string]int{"SecretList": 1, "SecretGet": 6},
			Outcomes:   map[string]int{"success": 7},
			Objects: []Object{
				{Kind: "secret", Name: "sample-db-password", First: now.Add(-11 * time.Minute), Last: now.Add(-3 * time.Minute), Count: 4,
					Operations: map[string]int{"SecretGet": 4}, NormalReaders: []string{"sample-app (00000000-0000-4000-8000-0000000000b2)"}},
				{Kind: "secret", Name: "sample-api-key", First: now.Add(-9 * time.Minute), Last: now.Add(-2 * time.Minute), Count: 2,
					Operations: map[string]int{"SecretGet": 2}},
			},
		},
		Explanation: "This is a sample alert made by vaultwatch to check that notifications and exports arrive: nothing happened. " +
			"A real " + string(t) + " alert explains here, in numbers, what normal looks like and how far the calls were from it.",
		Facts: []Fact{{Name: "sample", Value: 1}},
	}
	switch t {
	case TorAccess:
		a.Entities.IPs[0].Classification = []string{"tor", "public"}
	case SuspiciousIPAccess, SuspiciousIPDenied:
		a.Entities.IPs[0].Classification = []string{"reputation:sample-list", "public"}
	case UnusualIP, CrossProviderAccess:
		a.Entities.IPs[0].Classification = []string{"cloud:azure", "public"}
	}
	a.ID = fmt.Sprintf("vw-sample-%s-%d", t, now.UnixNano())
	a.Fill()
	return a, nil
}

// Samples returns one sample alert of each type, or of the given types.
func Samples(now time.Time, types ...Type) ([]Alert, error) {
	if len(types) == 0 {
		for _, in := range Catalogue() {
			types = append(types, in.Type)
		}
	}
	out := make([]Alert, 0, len(types))
	for _, t := range types {
		a, err := Sample(t, now)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
