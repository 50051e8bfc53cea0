package hashivault

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

func sampleDir(t testing.TB) string { return testutil.Samples(t) }

// byID returns the event with the correlation id, failing when there is not
// exactly one.
func byID(t *testing.T, evs []event.Event, id string) event.Event {
	t.Helper()
	var found []event.Event
	for _, e := range evs {
		if e.CorrelationID == id {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d events with correlation id %s, want 1", len(found), id)
	}
	return found[0]
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestConformanceZeroMalformed decodes every Vault sample: no record may be
// malformed, every event has a time, a vault and an outcome, and every
// request is paired (each request id yields one event).
func TestConformanceZeroMalformed(t *testing.T) {
	for _, name := range vaultSamples {
		t.Run(name, func(t *testing.T) {
			out := sampleEvents(t, name)
			if len(out.events) == 0 {
				t.Fatal("no events")
			}
			seen := map[string]bool{}
			for _, e := range out.events {
				if e.Time.IsZero() || e.Time.Location() != time.UTC {
					t.Errorf("line %d: time %v not UTC or zero", e.Source.Line, e.Time)
				}
				if e.Vault.ID == "" || e.Vault.Name == "" || e.Operation.Name == "" || e.Operation.Class == "" {
					t.Errorf("line %d: vault or operation missing: %+v %+v", e.Source.Line, e.Vault, e.Operation)
				}
				if e.Result.Outcome == "" || e.Result.Outcome == event.OutcomeUnknown {
					t.Errorf("line %d: outcome %q: a request was not paired", e.Source.Line, e.Result.Outcome)
				}
				if e.Provider != event.ProviderHashiCorpVault || e.Format != event.FormatVaultAudit {
					t.Errorf("line %d: provider %q format %q", e.Source.Line, e.Provider, e.Format)
				}
				if e.CorrelationID != "" {
					if seen[e.CorrelationID] {
						t.Errorf("request %s yielded two events", e.CorrelationID)
					}
					seen[e.CorrelationID] = true
				}
			}
		})
	}
}

// TestConformanceDevServer checks the normalized fields of the real Vault
// 1.21 dev server run by hand.
func TestConformanceDevServer(t *testing.T) {
	out := sampleEvents(t, "vault-audit-real-devserver.jsonl")
	// 70 entries: the audit device's test entry (skipped), the response to
	// enabling the first device (its request came before the device), and
	// 34 request/response pairs.
	if got, want := len(out.events), 35; got != want {
		t.Errorf("%d events, want %d", got, want)
	}
	if out.skipped["audit device test entry"] != 1 || len(out.skipped) != 1 {
		t.Errorf("skipped %v, want the audit device test entry once", out.skipped)
	}
	localhost := netip.MustParseAddr("127.0.0.1")
	limited := []string{"app-readonly", "default"}
	const limitedAccessor = "hmac-sha256:5fec1779f25cfcda588238c56e42a3dd910d0c278327e666800e07cd853190a3"
	const rootAccessor = "hmac-sha256:aba41d3d7912bb85142a8495ba234516b44f0a1a1931cbd32b561396d03c58aa"

	// The limited token denied a read: the event takes the request's time
	// and the response's line.
	e := byID(t, out.events, "b565e668-a75d-bda5-cd82-147a2916d1c5")
	want := event.Event{
		Time:      mustTime(t, "2026-11-27T04:45:08.35050206Z"),
		Provider:  event.ProviderHashiCorpVault,
		Format:    event.FormatVaultAudit,
		Vault:     event.Vault{ID: "vault:root:secret/", Name: "secret"},
		Operation: event.Operation{Name: "read", Class: event.ClassRead},
		Object:    event.Object{Kind: event.KindSecret, Name: "app/db"},
		Caller: event.Caller{Type: event.IdentityUser, DisplayName: "token-limited",
			TokenAccessor: limitedAccessor, Policies: limited},
		IP:            localhost,
		UserAgent:     "Go-http-client/1.1",
		CorrelationID: "b565e668-a75d-bda5-cd82-147a2916d1c5",
		Result:        event.Result{Outcome: event.OutcomeDenied, Status: 403, Reason: "permission denied"},
		Source:        event.Location{File: "vault-audit-real-devserver.jsonl", Line: 46},
	}
	checkEvent(t, e, want)

	// The limited token denied a write.
	e = byID(t, out.events, "f8b875b6-35bd-a82f-cda7-d8d00438a7b3")
	want.Time = mustTime(t, "2026-11-27T04:45:08.392296686Z")
	want.Operation = event.Operation{Name: "update", Class: event.ClassWrite}
	want.CorrelationID = "f8b875b6-35bd-a82f-cda7-d8d00438a7b3"
	want.Source.Line = 50
	checkEvent(t, e, want)

	// An invalid token: Vault 1.21 writes "permission denied" and "invalid
	// token", and no accessor.
	e = byID(t, out.events, "79480ae4-f15b-14ae-0e1e-3ba22259f84f")
	checkEvent(t, e, event.Event{
		Time:          mustTime(t, "2026-11-27T04:45:08.472800757Z"),
		Provider:      event.ProviderHashiCorpVault,
		Format:        event.FormatVaultAudit,
		Vault:         event.Vault{ID: "vault:root:sys/", Name: "sys"},
		Operation:     event.Operation{Name: "read", Class: event.ClassOther},
		Object:        event.Object{Kind: event.KindPath, Name: "sys/internal/ui/mounts/secret/app/db"},
		Caller:        event.Caller{Type: event.IdentityAnonymous},
		IP:            localhost,
		UserAgent:     "Go-http-client/1.1",
		CorrelationID: "79480ae4-f15b-14ae-0e1e-3ba22259f84f",
		Result:        event.Result{Outcome: event.OutcomeUnauthenticated, Status: 401, Reason: "invalid token"},
		Source:        event.Location{File: "vault-audit-real-devserver.jsonl", Line: 54},
	})

	// A wrong password: no auth on the response, the user from the path.
	e = byID(t, out.events, "2a33702d-c25e-c9d1-7242-369a94bc7cb2")
	checkEvent(t, e, event.Event{
		Time:          mustTime(t, "2026-11-27T04:45:08.781211403Z"),
		Provider:      event.ProviderHashiCorpVault,
		Format:        event.FormatVaultAudit,
		Vault:         event.Vault{ID: "vault:root:auth/userpass/", Name: "auth/userpass"},
		Operation:     event.Operation{Name: "update", Class: event.ClassAuth},
		Object:        event.Object{Kind: event.KindPath, Name: "login/alice"},
		Caller:        event.Caller{Type: event.IdentityUser, UPN: "alice"},
		IP:            localhost,
		UserAgent:     "Go-http-client/1.1",
		CorrelationID: "2a33702d-c25e-c9d1-7242-369a94bc7cb2",
		Result:        event.Result{Outcome: event.OutcomeDenied, Status: 400, Reason: "invalid credentials"},
		Source:        event.Location{File: "vault-audit-real-devserver.jsonl", Line: 62},
	})

	// The good login: the caller is the token it issued.
	e = byID(t, out.events, "d6f31f54-708d-8726-f52f-fb4c96318ebc")
	checkEvent(t, e, event.Event{
		Time:      mustTime(t, "2026-11-27T04:45:08.692940899Z"),
		Provider:  event.ProviderHashiCorpVault,
		Format:    event.FormatVaultAudit,
		Vault:     event.Vault{ID: "vault:root:auth/userpass/", Name: "auth/userpass"},
		Operation: event.Operation{Name: "update", Class: event.ClassAuth},
		Object:    event.Object{Kind: event.KindPath, Name: "login/alice"},
		Caller: event.Caller{Type: event.IdentityUser, UPN: "alice", DisplayName: "userpass-alice",
			VaultEntityID: "30dd5356-73e4-8748-e628-e8fa0e31f66b",
			TokenAccessor: "hmac-sha256:e8dc9f97af3005dd404c4cce131940481f8ab7abd32c605cc0af2dde28c78b8d",
			Policies:      limited},
		IP:            localhost,
		UserAgent:     "Go-http-client/1.1",
		CorrelationID: "d6f31f54-708d-8726-f52f-fb4c96318ebc",
		Result:        event.Result{Outcome: event.OutcomeSuccess, Status: 200},
		Source:        event.Location{File: "vault-audit-real-devserver.jsonl", Line: 60},
	})

	// Root token use: a KV v2 write that made version 2.
	e = byID(t, out.events, "7f9d5fbe-bcc8-f07a-99df-98845b4a143d")
	checkEvent(t, e, event.Event{
		Time:      mustTime(t, "2026-11-27T04:45:08.146827637Z"),
		Provider:  event.ProviderHashiCorpVault,
		Format:    event.FormatVaultAudit,
		Vault:     event.Vault{ID: "vault:root:secret/", Name: "secret"},
		Operation: event.Operation{Name: "update", Class: event.ClassWrite},
		Object:    event.Object{Kind: event.KindSecret, Name: "app/db", Version: "2"},
		Caller: event.Caller{Type: event.IdentityUser, DisplayName: "token", TokenAccessor: rootAccessor,
			Policies: []string{"root"}, Privileged: true},
		IP:            localhost,
		UserAgent:     "Go-http-client/1.1",
		CorrelationID: "7f9d5fbe-bcc8-f07a-99df-98845b4a143d",
		Result:        event.Result{Outcome: event.OutcomeSuccess, Status: 200},
		Source:        event.Location{File: "vault-audit-real-devserver.jsonl", Line: 30},
	})

	// The other classes seen in the run.
	for _, c := range []struct {
		id    string
		class event.Class
		obj   event.Object
	}{
		{"bc939420-6ac3-bad8-5d87-43dc2977faf7", event.ClassRead, event.Object{Kind: event.KindSecret, Name: "app/db", Version: "1"}},
		{"47d04dd0-2e0b-96c2-8d75-2f6145fb55ef", event.ClassDelete, event.Object{Kind: event.KindSecret, Name: "app/api"}},
		{"1dff78be-2967-5c75-6046-b0a08aa4d4aa", event.ClassPolicyChange, event.Object{Kind: event.KindPath, Name: "sys/policies/acl/app-readonly"}},
		{"75dd0b75-7faa-3c92-2b1b-4f027bbf588d", event.ClassAuditConfig, event.Object{Kind: event.KindPath, Name: "sys/audit/file"}},
		{"30ef86c9-e894-a5eb-24b0-853cb3a9b187", event.ClassAuth, event.Object{Kind: event.KindPath, Name: "create"}},
		{"886720ac-e59f-d627-cfbb-198e6a95a031", event.ClassWrite, event.Object{Kind: event.KindKey, Name: "k1"}},
		{"6c541f2d-b936-75e7-8667-8c288d319dc9", event.ClassCrypto, event.Object{Kind: event.KindKey, Name: "k1"}},
		{"26cfc9dc-d367-b8eb-d687-a32e33437f3b", event.ClassManagement, event.Object{Kind: event.KindPath, Name: "sys/mounts/transit"}},
	} {
		e := byID(t, out.events, c.id)
		if e.Operation.Class != c.class || e.Object != c.obj || e.Result.Outcome != event.OutcomeSuccess {
			t.Errorf("%s: class %q object %+v outcome %q, want %q %+v success", c.id, e.Operation.Class, e.Object, e.Result.Outcome, c.class, c.obj)
		}
	}
	// The response to enabling the file device has no request entry: its
	// own time.
	e = byID(t, out.events, "75dd0b75-7faa-3c92-2b1b-4f027bbf588d")
	if !e.Time.Equal(mustTime(t, "2026-11-27T04:45:07.774244894Z")) {
		t.Errorf("unpaired response time %v", e.Time)
	}
}

// TestConformanceServicePrincipal checks the Terraform Cloud JWT workload
// sample (values masked with ****) and the Elastic excerpt by hand.
func TestConformanceServicePrincipal(t *testing.T) {
	out := sampleEvents(t, "vault-audit-tallen-hashicorp-tfc-jwt.json")
	if len(out.events) != 6 {
		t.Errorf("%d events, want 6", len(out.events))
	}
	tfc := event.Caller{
		Type:          event.IdentityServicePrincipal,
		DisplayName:   "jwt-organization:***:project:***:workspace:****",
		VaultEntityID: "c67ec5d4-310a-ec11-cac8-cdeff0fd9878",
		TokenAccessor: "****",
		Policies:      []string{"default", "tfc-policy"},
	}
	ip := netip.MustParseAddr("3.93.200.217")
	// The JWT login: its request id is masked, so it pairs but has no
	// correlation id.
	login := out.events[0]
	checkEvent(t, login, event.Event{
		Time:      mustTime(t, "2024-08-15T13:15:03.448238519Z"),
		Provider:  event.ProviderHashiCorpVault,
		Format:    event.FormatVaultAudit,
		Vault:     event.Vault{ID: "vault:root:auth/jwt/", Name: "auth/jwt"},
		Operation: event.Operation{Name: "update", Class: event.ClassAuth},
		Object:    event.Object{Kind: event.KindPath, Name: "login"},
		Caller:    tfc,
		IP:        ip,
		Result:    event.Result{Outcome: event.OutcomeSuccess, Status: 200},
		Source:    event.Location{File: "vault-audit-tallen-hashicorp-tfc-jwt.json", Line: 2},
	})
	e := byID(t, out.events, "7298b02c-cc59-046c-2dd9-fbc29ac4adc4")
	checkEvent(t, e, event.Event{
		Time:          mustTime(t, "2024-08-15T13:15:15.135181832Z"),
		Provider:      event.ProviderHashiCorpVault,
		Format:        event.FormatVaultAudit,
		Vault:         event.Vault{ID: "vault:root:secret/", Name: "secret"},
		Operation:     event.Operation{Name: "read", Class: event.ClassRead},
		Object:        event.Object{Kind: event.KindSecret, Name: "s3", Version: "1"},
		Caller:        tfc,
		IP:            ip,
		CorrelationID: "7298b02c-cc59-046c-2dd9-fbc29ac4adc4",
		Result:        event.Result{Outcome: event.OutcomeSuccess, Status: 200},
		Source:        event.Location{File: "vault-audit-tallen-hashicorp-tfc-jwt.json", Line: 10},
	})
	e = byID(t, out.events, "f740af83-3ebe-2146-f7c9-d0421bdd5482")
	if e.Operation.Class != event.ClassAuth || e.Object.Name != "revoke-self" || e.Vault.Name != "auth/token" {
		t.Errorf("revoke-self: %+v %+v %+v", e.Vault, e.Operation, e.Object)
	}

	out = sampleEvents(t, "vault-audit-elastic-integrations-test-audit.EXCERPT-lines3-6.jsonl")
	if len(out.events) != 2 {
		t.Fatalf("%d events, want 2", len(out.events))
	}
	// Vault 1.7 (no mount_point): a token it could not resolve is denied
	// with a bare "permission denied" and an empty auth block.
	file := "vault-audit-elastic-integrations-test-audit.EXCERPT-lines3-6.jsonl"
	checkEvent(t, byID(t, out.events, "24ac580b-805a-d9ee-4d0d-7046932f4e05"), event.Event{
		Time:          mustTime(t, "2021-07-19T17:19:00.673898225Z"),
		Provider:      event.ProviderHashiCorpVault,
		Format:        event.FormatVaultAudit,
		Vault:         event.Vault{ID: "vault:root:internal-ca/", Name: "internal-ca"},
		Operation:     event.Operation{Name: "update", Class: event.ClassWrite},
		Object:        event.Object{Kind: event.KindPath, Name: "issue/internal-server"},
		Caller:        event.Caller{Type: event.IdentityAnonymous},
		IP:            netip.MustParseAddr("10.6.8.34"),
		CorrelationID: "24ac580b-805a-d9ee-4d0d-7046932f4e05",
		Result:        event.Result{Outcome: event.OutcomeUnauthenticated, Status: 401, Reason: "permission denied"},
		Source:        event.Location{File: file, Line: 2},
	})
	// A Nomad workload's token (metadata, no username) reads a KV v2 secret.
	checkEvent(t, byID(t, out.events, "0042ad1b-1400-7eb7-5e25-1dfc898c1998"), event.Event{
		Time:      mustTime(t, "2021-06-29T17:26:11.402530449Z"),
		Provider:  event.ProviderHashiCorpVault,
		Format:    event.FormatVaultAudit,
		Vault:     event.Vault{ID: "vault:root:secret/", Name: "secret"},
		Operation: event.Operation{Name: "read", Class: event.ClassRead},
		Object:    event.Object{Kind: event.KindSecret, Name: "apps/continuous-delivery/aws-bucket-sse-c", Version: "1"},
		Caller: event.Caller{
			Type:          event.IdentityServicePrincipal,
			DisplayName:   "token-375f9cb3-4355-42c7-eab5-029f8a310ca7-runner",
			TokenAccessor: "hmac-sha256:8fa4f7f3d1fd812064950025cde2b1565829a9dc5075253399e5ede8f8a1d98e",
			Policies:      []string{"app-continuous-delivery", "app-github-runner", "default"},
		},
		IP:            netip.MustParseAddr("10.6.8.36"),
		CorrelationID: "0042ad1b-1400-7eb7-5e25-1dfc898c1998",
		Result:        event.Result{Outcome: event.OutcomeSuccess, Status: 200},
		Source:        event.Location{File: file, Line: 4},
	})
	// None of the Vault samples reads a missing secret: not-found is checked
	// by the golden cases kv2-lifecycle, list and failures.
}

func checkEvent(t *testing.T, got, want event.Event) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	if !bytes.Equal(g, w) || !got.Time.Equal(want.Time) {
		t.Errorf("event differs:\n--- got\n%s\n--- want\n%s", g, w)
	}
}

// TestDetectOtherFormats runs Detect over every record of the other
// formats' samples (and over the JSON record an intake test wraps in
// input.message): none may be taken for a Vault audit entry.
func TestDetectOtherFormats(t *testing.T) {
	dir := sampleDir(t)
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		base := filepath.Base(p)
		if strings.HasPrefix(base, "vault-audit-") || !(strings.HasSuffix(base, ".json") || strings.HasSuffix(base, ".jsonl")) {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no other samples")
	}
	var p fastjson.Parser
	n := 0
	for _, f := range files {
		for i, rec := range readRecords(t, f) {
			v, err := p.ParseBytes(rec)
			if err != nil {
				t.Fatalf("%s record %d: %v", f, i+1, err)
			}
			vals := []*fastjson.Value{v}
			if m := v.GetStringBytes("input", "message"); bytes.HasPrefix(m, []byte("{")) {
				var q fastjson.Parser
				if inner, err := q.ParseBytes(m); err == nil {
					vals = append(vals, inner)
					if Detect(inner) {
						t.Errorf("%s record %d: input.message detected as a Vault audit entry", filepath.Base(f), i+1)
					}
				}
			}
			if Detect(v) {
				t.Errorf("%s record %d: detected as a Vault audit entry", filepath.Base(f), i+1)
			}
			n += len(vals)
		}
	}
	if n < 500 {
		t.Errorf("only %d records of other formats checked", n)
	}
}

// TestLogRawKeepsNoSecret decodes the log_raw sample, where tokens,
// passwords and secret values are written in clear, and checks that no
// event carries any string written under a data, client_token, secret_id,
// password, token, accessor or client_token_accessor key, unless the log
// also writes that string where it is not sensitive (a policy name also
// found in token lookup data, a mount path, "limited" given at token
// creation and shown in the display name "token-limited").
func TestLogRawKeepsNoSecret(t *testing.T) {
	const name = "vault-audit-real-devserver-lograw.jsonl"
	path := filepath.Join(sampleDir(t), name)
	secret, public := map[string]bool{}, map[string]bool{}
	for _, rec := range readRecords(t, path) {
		var v any
		if err := json.Unmarshal(rec, &v); err != nil {
			t.Fatal(err)
		}
		collectStrings(v, false, secret, public)
	}
	var check []string
	for s := range secret {
		if len(s) >= 6 && !inPublic(s, public) {
			check = append(check, s)
		}
	}
	slices.Sort(check)
	// The test must be able to fail: the clear secrets of the run are
	// among the strings checked.
	for _, s := range []string{"s3cr3t-db", "alice-pw", "abc123", "rotated-2", "not-a-real-token",
		"hvs.VbaHRZtlZTKmfAFtovlhYilQ", "ARl3T0ZitiCkCqyQHajMWCrs", "aaS4QPHGSeXovrWDJp4K7qGK"} {
		if !slices.Contains(check, s) {
			t.Errorf("%q is not among the secret strings checked", s)
		}
	}
	out := sampleEvents(t, name)
	if len(out.events) == 0 {
		t.Fatal("no events")
	}
	for _, e := range out.events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range check {
			enc, _ := json.Marshal(s)
			if bytes.Contains(b, enc[1:len(enc)-1]) {
				t.Errorf("line %d: event holds a secret string written under a sensitive key (%d characters)", e.Source.Line, len(s))
			}
		}
		if e.Caller.TokenAccessor != "" && !strings.HasPrefix(e.Caller.TokenAccessor, "sha256:") {
			t.Errorf("line %d: clear accessor not hashed", e.Source.Line)
		}
	}
}

func inPublic(s string, public map[string]bool) bool {
	for p := range public {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}

// sensitiveKeys are keys whose string values (at any depth) may be secret.
var sensitiveKeys = map[string]bool{
	"data": true, "client_token": true, "secret_id": true, "password": true, "token": true,
	"accessor": true, "client_token_accessor": true,
}

func collectStrings(v any, under bool, secret, public map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			collectStrings(c, under || sensitiveKeys[k], secret, public)
		}
	case []any:
		for _, c := range x {
			collectStrings(c, under, secret, public)
		}
	case string:
		if under {
			secret[x] = true
		} else {
			public[x] = true
		}
	}
}
