// Package apitest is what the API's and the pages' tests share: a real
// SQLite store filled with realistic vaults, events and alerts, and a
// server that mounts routes as the real one does, with a fixed caller.
package apitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/api"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/event"
	"vaultwatch/internal/source"
	"vaultwatch/internal/store"
	"vaultwatch/internal/store/sqlite"
)

// Now is the fixture's clock: every event and alert is before it.
var Now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// The fixture's vaults, callers and alerts.
const (
	AzureVault = "/subscriptions/6a1f0c2e-0000-4000-8000-000000000001/resourcegroups/rg-pay/providers/microsoft.keyvault/vaults/kv-payments-prod"
	AzureName  = "kv-payments-prod"
	HVault     = "vault:root:kv-payments/"
	HName      = "kv-payments"

	TorIP      = "198.51.100.23"
	OfficeIP   = "203.0.113.10"
	Mallory    = "mallory@contoso.com"
	MalloryOID = "5b0c8d2a-1111-4222-8333-444455556666"
	Alice      = "alice@contoso.com"
	AliceOID   = "0a1b2c3d-aaaa-4bbb-8ccc-ddddeeeeffff"
	AppID      = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	// Formula is a UPN a spreadsheet would run as a formula.
	Formula = "=HYPERLINK(\"http://evil.example\")"
	// Nasty is text a page must escape.
	Nasty = `<script>alert("pwned")</script>`

	TorAlertID   = "vw-tor0000000000001"
	RootAlertID  = "vw-root000000000002"
	NastyAlertID = "vw-nasty00000000003"
)

// Events returns the fixture's events: Alice reading the Azure vault from
// the office every ten minutes for the last 6 hours, Mallory from a Tor
// exit node reading three secrets and denied on a fourth, root-token use
// on the Vault mount, and a caller whose UPN is a spreadsheet formula.
func Events() []event.Event {
	var out []event.Event
	az := event.Vault{ID: AzureVault, Name: AzureName}
	alice := event.Caller{Type: event.IdentityUser, ObjectID: AliceOID, UPN: Alice, AppID: AppID, DisplayName: "Alice"}
	for i := range 36 {
		out = append(out, event.Event{
			Time: Now.Add(-6*time.Hour + time.Duration(i)*10*time.Minute), Provider: event.ProviderAzureKeyVault,
			Format: event.FormatAzureKeyVault, Vault: az,
			Operation: event.Operation{Name: "SecretGet", Class: event.ClassRead},
			Object:    event.Object{Kind: event.KindSecret, Name: "app-config", Version: "1"},
			Caller:    alice, IP: netip.MustParseAddr(OfficeIP),
			Result: event.Result{Outcome: event.OutcomeSuccess, Status: 200},
			Source: event.Location{File: "PT1H.json", Line: int64(i + 1)},
		})
	}
	mallory := event.Caller{Type: event.IdentityUser, ObjectID: MalloryOID, UPN: Mallory, AppID: AppID}
	for i, name := range []string{"db-password", "stripe-api-key", "signing-cert", Nasty} {
		e := event.Event{
			Time: Now.Add(-2*time.Hour + time.Duration(i)*time.Minute), Provider: event.ProviderAzureKeyVault,
			Format: event.FormatAzureKeyVault, Vault: az,
			Operation: event.Operation{Name: "SecretGet", Class: event.ClassRead},
			Object:    event.Object{Kind: event.KindSecret, Name: name},
			Caller:    mallory, IP: netip.MustParseAddr(TorIP), UserAgent: "curl/8.5.0",
			Result: event.Result{Outcome: event.OutcomeSuccess, Status: 200},
		}
		if i == 3 {
			e.Result = event.Result{Outcome: event.OutcomeDenied, Status: 403, Reason: "Forbidden"}
		}
		out = append(out, e)
	}
	out = append(out, event.Event{
		Time: Now.Add(-3 * time.Hour), Provider: event.ProviderHashiCorpVault, Format: event.FormatVaultAudit,
		Vault:     event.Vault{ID: HVault, Name: HName},
		Operation: event.Operation{Name: "read", Class: event.ClassRead},
		Object:    event.Object{Kind: event.KindPath, Name: "kv-payments/data/stripe"},
		Caller:    event.Caller{VaultEntityID: "root", TokenAccessor: "hmac-sha256:abc", Policies: []string{"root"}, Privileged: true},
		IP:        netip.MustParseAddr(OfficeIP),
		Result:    event.Result{Outcome: event.OutcomeSuccess},
	}, event.Event{
		Time: Now.Add(-90 * time.Minute), Provider: event.ProviderAzureKeyVault, Format: event.FormatAzureKeyVault,
		Vault:     az,
		Operation: event.Operation{Name: "SecretList", Class: event.ClassList},
		Caller:    event.Caller{Type: event.IdentityUser, UPN: Formula, ObjectID: "formula-oid"},
		IP:        netip.MustParseAddr("192.0.2.7"),
		Result:    event.Result{Outcome: event.OutcomeSuccess, Status: 200},
	})
	return out
}

// Alerts returns the fixture's alerts, filled from the catalogue: Tor
// access by Mallory (high), root-token use on the Vault mount (high), and
// an unusual-ip alert (medium) whose texts hold markup.
func Alerts() []*alert.Alert {
	tor := &alert.Alert{
		ID: TorAlertID, Type: alert.TorAccess, Severity: alert.SeverityHigh,
		StartTime: Now.Add(-2 * time.Hour), EndTime: Now.Add(-2*time.Hour + 3*time.Minute),
		Vault: alert.Vault{Provider: string(event.ProviderAzureKeyVault), ID: AzureVault, Name: AzureName},
		Entities: alert.Entities{
			IPs:       []alert.IP{{Address: TorIP, Classification: []string{"tor"}}},
			ObjectIDs: []string{MalloryOID}, UPNs: []string{Mallory}, AppIDs: []string{AppID},
			UserAgents: []string{"curl/8.5.0"},
		},
		Evidence: alert.Evidence{
			Operations: map[string]int{"SecretGet": 4},
			Outcomes:   map[string]int{"success": 3, "denied": 1},
			Objects: []alert.Object{
				{Kind: "secret", Name: "db-password", First: Now.Add(-2 * time.Hour), Last: Now.Add(-2 * time.Hour), Count: 1, Operations: map[string]int{"SecretGet": 1}, NormalReaders: []string{Alice}},
				{Kind: "secret", Name: "stripe-api-key", First: Now.Add(-2*time.Hour + time.Minute), Last: Now.Add(-2*time.Hour + 2*time.Minute), Count: 2, Operations: map[string]int{"SecretGet": 2}},
				{Kind: "certificate", Name: "signing-cert", First: Now.Add(-2*time.Hour + 2*time.Minute), Last: Now.Add(-2*time.Hour + 3*time.Minute), Count: 1},
			},
		},
		Explanation: "4 calls came from 198.51.100.23, a Tor exit node.",
		Count:       4,
		Facts:       []alert.Fact{{Name: "calls", Value: 4}},
	}
	root := &alert.Alert{
		ID: RootAlertID, Type: alert.PrivilegedTokenUse,
		StartTime: Now.Add(-3 * time.Hour), EndTime: Now.Add(-3 * time.Hour),
		Vault:       alert.Vault{Provider: string(event.ProviderHashiCorpVault), ID: HVault, Name: HName},
		Entities:    alert.Entities{IPs: []alert.IP{{Address: OfficeIP, Classification: []string{"public"}}}, VaultEntities: []string{"root"}},
		Evidence:    alert.Evidence{Operations: map[string]int{"read": 1}},
		Explanation: "A call used a Vault root token.",
		Count:       1,
	}
	nasty := &alert.Alert{
		ID: NastyAlertID, Type: alert.UnusualIP, Severity: alert.SeverityMedium,
		Title:     "Unusual address " + Nasty,
		StartTime: Now.Add(-30 * time.Hour), EndTime: Now.Add(-29 * time.Hour),
		Vault: alert.Vault{Provider: string(event.ProviderAzureKeyVault), ID: AzureVault, Name: AzureName},
		Entities: alert.Entities{
			IPs:  []alert.IP{{Address: "192.0.2.7", Classification: []string{"public"}}},
			UPNs: []string{Nasty + "@contoso.com"}, DisplayNames: []string{"\" onmouseover=\"alert(1)"},
		},
		Evidence: alert.Evidence{
			Operations: map[string]int{Nasty: 2},
			Objects:    []alert.Object{{Kind: "secret", Name: Nasty, First: Now.Add(-30 * time.Hour), Last: Now.Add(-29 * time.Hour), Count: 2}},
		},
		Explanation: "The caller came from " + Nasty + " a network new to it.",
		Count:       2,
	}
	out := []*alert.Alert{tor, root, nasty}
	for _, a := range out {
		a.Fill()
	}
	return out
}

// Open returns an empty store in a temporary folder, closed when the test
// ends.
func Open(t testing.TB) store.Store {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "vaultwatch.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Filled returns a store holding Events and Alerts.
func Filled(t testing.TB) store.Store {
	t.Helper()
	s := Open(t)
	if err := s.Commit(t.Context(), &store.Batch{Events: Events(), Alerts: Alerts(), Now: Now.Add(-time.Minute)}); err != nil {
		t.Fatalf("fill store: %v", err)
	}
	return s
}

// Sources is the fixture's source health.
func Sources() []source.Status {
	return []source.Status{
		{Name: "azure-blobs", Kind: "file", Records: 1200, Bytes: 1 << 20, LastRead: Now.Add(-time.Minute), Lag: 4096, Unit: "bytes"},
		{Name: "eventhub", Kind: "kafka", Records: 50, Errors: 2, LastError: "broker unreachable", Lag: 12, Unit: "messages"},
	}
}

// Baseline is the fixture's baseline of the Azure vault.
func Baseline(id string) (api.Baseline, bool) {
	if id != AzureVault {
		return api.Baseline{}, false
	}
	return api.Baseline{
		Since: Now.Add(-14 * 24 * time.Hour),
		Apps:  []api.Known{{Name: AppID, First: Now.Add(-14 * 24 * time.Hour), Last: Now, Calls: 900}},
		Users: []api.Known{
			{Name: Alice, First: Now.Add(-14 * 24 * time.Hour), Last: Now, Calls: 800},
			{Name: "bob@contoso.com", First: Now.Add(-10 * 24 * time.Hour), Last: Now.Add(-24 * time.Hour), Calls: 100},
		},
		Networks: []api.KnownNet{{Prefix: "203.0.113.0/24", Labels: []string{"public"}, First: Now.Add(-14 * 24 * time.Hour)}},
	}, true
}

// Deps returns dependencies over s with the fixture's clock, sources and
// baselines.
func Deps(s store.Store) api.Deps {
	return api.Deps{Store: s, Sources: Sources, Baseline: Baseline, Clock: func() time.Time { return Now }}
}

// Principal is the caller Serve puts in every request: a responder.
var Principal = auth.Principal{Name: "alice", Role: auth.RoleResponder, CSRF: "csrf-token-for-tests"}

// Serve mounts routes on a ServeMux the way the server does, except that
// the caller is p (its role enforced with auth.Allows) rather than
// authenticated, and serves them on 127.0.0.1.
func Serve(t testing.TB, p auth.Principal, routes ...[]api.Route) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for _, rs := range routes {
		for _, r := range rs {
			h := r.Handler
			role := r.Role
			mux.Handle(r.MuxPattern(), http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if role != "" && !auth.Allows(p.Role, role) {
					http.Error(w, fmt.Sprintf("needs role %s", role), http.StatusForbidden)
					return
				}
				h.ServeHTTP(w, req.WithContext(auth.WithPrincipal(req.Context(), p)))
			}))
		}
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}
