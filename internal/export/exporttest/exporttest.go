// Package exporttest holds realistic export records for the tests and
// benchmarks of the export formats and sinks.
package exporttest

import (
	"fmt"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/export"
)

// base is the start of the fixtures' alerts.
var base = time.Date(2026, 11, 20, 9, 12, 0, 0, time.UTC)

func at(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }

// TorAccess is a filled tor-access alert on an Azure Key Vault.
func TorAccess() alert.Alert {
	a := alert.Alert{
		Type: alert.TorAccess, StartTime: at(0), EndTime: at(14), Count: 37,
		Vault: alert.Vault{Provider: "azure-keyvault", ID: "azure-keyvault:kv-payments-prod", Name: "kv-payments-prod"},
		Entities: alert.Entities{
			IPs:          []alert.IP{{Address: "185.220.101.34", Classification: []string{"tor", "public"}, Country: "DE", ASN: 208294, ASOrg: "Example Tor Relays"}},
			ObjectIDs:    []string{"3f1c2a9e-5b7d-4e21-9c0a-7d6e5f4a3b21"},
			UPNs:         []string{"alice@contoso.com"},
			AppIDs:       []string{"04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
			DisplayNames: []string{"Alice Martin"},
			UserAgents:   []string{"python-requests/2.32.3"},
		},
		Evidence: alert.Evidence{
			Operations: map[string]int{"SecretGet": 35, "SecretList": 2},
			Outcomes:   map[string]int{"success": 37},
			Objects: []alert.Object{
				{Kind: "secret", Name: "payments-db-password", First: at(1), Last: at(13), Count: 20, Operations: map[string]int{"SecretGet": 20}, NormalReaders: []string{"app-payments-api", "app-settlement"}},
				{Kind: "key", Name: "payments-signing", First: at(2), Last: at(2), Count: 1, Operations: map[string]int{"KeyGet": 1}},
			},
		},
		Explanation: "185.220.101.34 is a Tor exit node (list tor-exits, updated 2026-11-19); alice@contoso.com has used this vault from 2 networks in 14 days, never through Tor.",
		Facts:       []alert.Fact{{Name: "networks_seen", Value: 2}},
	}
	a.Fill()
	return a
}

// PrivilegedTokenUse is a filled privileged-token-use alert on a HashiCorp
// Vault mount.
func PrivilegedTokenUse() alert.Alert {
	a := alert.Alert{
		Type: alert.PrivilegedTokenUse, StartTime: at(0), EndTime: at(5), Count: 4,
		Vault: alert.Vault{Provider: "hashicorp-vault", ID: "vault:aB12c:kv-team/", Name: "team-a/kv-team"},
		Entities: alert.Entities{
			IPs:            []alert.IP{{Address: "10.20.3.4", Classification: []string{"private"}}},
			TokenAccessors: []string{"hmac-sha256:5f1e0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"},
			DisplayNames:   []string{"root"},
		},
		Evidence: alert.Evidence{
			Operations: map[string]int{"read": 3, "update": 1},
			Outcomes:   map[string]int{"success": 3, "denied": 1},
			Objects: []alert.Object{
				{Kind: "secret", Name: "app/billing/db", First: at(1), Last: at(4), Count: 3, Operations: map[string]int{"read": 3}, NormalReaders: []string{"approle-billing"}},
				{Kind: "key", Name: "billing", First: at(4), Last: at(4), Count: 1, Operations: map[string]int{"update": 1}},
			},
		},
		Explanation: "A root token read 3 secrets; no root token was used in 30 days.\nIts accessor is not a break-glass token.",
	}
	a.Fill()
	return a
}

// Cases are the golden cases of the formats, by name: a new tor-access
// alert, a status change of it closing it, a snapshot of a
// privileged-token-use alert muted by a suppression rule, and a grown
// privileged-token-use alert.
func Cases() map[string]export.Record {
	tor, root := TorAccess(), PrivilegedTokenUse()
	return map[string]export.Record{
		"tor-access-new": {Kind: export.KindAlert, Seq: 41, Alert: tor, Status: export.StatusActive, Version: 1, At: at(15)},
		"tor-access-resolved": {Kind: export.KindStatus, Seq: 57, Alert: tor, Status: export.StatusResolved, Version: 3, At: at(90),
			Change: &export.StatusChange{Status: export.StatusResolved, By: "bob", Comment: "Rotated payments-db-password; \"alice\" confirmed | not her = stolen\nsession.", At: at(90)}},
		"privileged-token-use-grown": {Kind: export.KindAlert, Seq: 44, Alert: root, Status: export.StatusInProgress, Version: 2, Grown: true, At: at(20)},
		"privileged-token-use-snapshot": {Kind: export.KindSnapshot, Seq: 60, Alert: root, Status: export.StatusActive, Version: 1,
			SuppressedBy: "rule-break-glass", SnapshotID: "snap-20261120T1000Z", At: at(48)},
	}
}

// Stream returns n records, alternating the two alerts under distinct ids,
// with growing Seq from 1.
func Stream(n int) []export.Record {
	tor, root := TorAccess(), PrivilegedTokenUse()
	out := make([]export.Record, n)
	for i := range out {
		a := tor
		if i%2 == 1 {
			a = root
		}
		a.ID = fmt.Sprintf("vw-%016x", i/4)
		out[i] = export.Record{Kind: export.KindAlert, Seq: int64(i + 1), Alert: a, Status: export.StatusActive, Version: 1, At: at(15)}
	}
	return out
}
