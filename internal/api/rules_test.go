package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"vaultwatch/internal/api"
	"vaultwatch/internal/api/apitest"
)

func TestRulesLifecycle(t *testing.T) {
	base, _ := fixture(t)
	jsonHdr := map[string]string{"Content-Type": "application/json"}
	rule := `{"type":"tor-access","matchers":[{"field":"ip","op":"cidr","value":"` + apitest.TorIP + `/32"}],"reason":"benign-positive","comment":"our scanner"}`

	// Simulate first: the Tor alert would have been silenced, and only it.
	code, _, b := do(t, "POST", base+"/api/v1/rules/simulate", rule, jsonHdr)
	if code != 200 {
		t.Fatalf("simulate: %d %s", code, b)
	}
	sim := decode[api.SimulationResult](t, b)
	if sim.Matched != 1 || len(sim.Alerts) != 1 || sim.Alerts[0].ID != apitest.TorAlertID {
		t.Fatalf("simulate: %+v, want the Tor alert only", sim)
	}

	code, hdr, b := do(t, "POST", base+"/api/v1/rules", rule, jsonHdr)
	if code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	created := decode[api.RuleView](t, b)
	if created.State != "enabled" || created.Author != apitest.Principal.Name || created.Version != 1 || hdr.Get("ETag") == "" {
		t.Fatalf("created %+v, ETag %q", created, hdr.Get("ETag"))
	}

	// Edits need If-Match, and a stale one is refused.
	edit := strings.Replace(rule, "our scanner", "our weekly scanner", 1)
	if code, _, b := do(t, "PUT", base+"/api/v1/rules/"+created.ID, edit, jsonHdr); code != 428 {
		t.Errorf("edit without If-Match: %d %s, want 428", code, b)
	}
	code, hdr, b = do(t, "PUT", base+"/api/v1/rules/"+created.ID, edit, map[string]string{"Content-Type": "application/json", "If-Match": hdr.Get("ETag")})
	if code != 200 {
		t.Fatalf("edit: %d %s", code, b)
	}
	if code, _, b := do(t, "PUT", base+"/api/v1/rules/"+created.ID, edit, map[string]string{"Content-Type": "application/json", "If-Match": `"1"`}); code != 412 {
		t.Errorf("stale edit: %d %s, want 412", code, b)
	}

	// Expire: the rule stays, expired.
	code, _, b = do(t, "POST", base+"/api/v1/rules/"+created.ID+"/expire", "", map[string]string{"If-Match": hdr.Get("ETag")})
	if code != 200 || decode[api.RuleView](t, b).State != "expired" {
		t.Fatalf("expire: %d %s", code, b)
	}
	code, b = get(t, base+"/api/v1/rules")
	var list struct{ Rules []api.RuleView }
	json.Unmarshal(b, &list)
	if code != 200 || len(list.Rules) != 1 || list.Rules[0].Comment != "our weekly scanner" || list.Rules[0].State != "expired" {
		t.Fatalf("list: %d %s", code, b)
	}
}

func TestRulesRefused(t *testing.T) {
	base, _ := fixture(t)
	jsonHdr := map[string]string{"Content-Type": "application/json"}
	for _, body := range []string{
		`{}`, // would silence everything
		`{"type":"no-such-type"}`,
		`{"matchers":[{"field":"colour","op":"=","value":"x"}]}`,
		`{"matchers":[{"field":"upn","op":"=~","value":"("}]}`,
		`{"matchers":[{"field":"ip","op":"cidr","value":"10.0.0.0/33"}]}`,
		`{"type":"tor-access","reason":"because"}`,
		`{"type":"tor-access","starts_at":"2026-11-20T10:00:00Z","ends_at":"2026-11-20T09:00:00Z"}`,
		`{"type":"tor-access","unknown":1}`,
	} {
		if code, _, b := do(t, "POST", base+"/api/v1/rules", body, jsonHdr); code != 400 {
			t.Errorf("%s: %d %s, want 400", body, code, b)
		}
	}
	if code, _, _ := do(t, "GET", base+"/api/v1/rules/nope", "", nil); code != 404 {
		t.Errorf("missing rule: %d, want 404", code)
	}
}
