package ui_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"vaultwatch/internal/api/apitest"
)

// TestRulePages walks a responder through a rule: from an alert's page,
// simulate, save, see it listed, end it.
func TestRulePages(t *testing.T) {
	s := apitest.Filled(t)
	base := serve(t, s, apitest.Principal)

	code, _, doc := page(t, base+"/alerts/"+apitest.TorAlertID)
	if code != 200 || !strings.Contains(strings.Join(links(doc), " "), "/rules/new?alert="+apitest.TorAlertID) {
		t.Fatalf("the alert page offers no rule: %d", code)
	}
	code, _, doc = page(t, base+"/rules/new?alert="+apitest.TorAlertID)
	checkSafe(t, "/rules/new", doc)
	if txt := text(doc); code != 200 || !strings.Contains(txt, "Filled in from alert") {
		t.Fatalf("new rule from alert: %d %s", code, txt)
	}

	form := url.Values{"csrf": {apitest.Principal.CSRF}, "type": {"tor-access"}, "reason": {"benign-positive"}, "comment": {"our <scanner>"},
		"field": {"ip", "", ""}, "op": {"cidr", "=", "="}, "value": {apitest.TorIP + "/32", "", ""}, "alert": {apitest.TorAlertID}}
	form.Set("action", "simulate")
	resp, err := noRedirect.PostForm(base+"/rules", form)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, "would have silenced <strong>1</strong>") || !strings.Contains(body, apitest.TorAlertID) {
		t.Fatalf("simulate: %d %s", resp.StatusCode, body)
	}
	rules, _ := s.Rules(t.Context())
	if len(rules) != 0 {
		t.Fatal("simulating saved a rule")
	}

	form.Set("action", "save")
	resp, err = noRedirect.PostForm(base+"/rules", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/rules?notice=created" {
		t.Fatalf("save: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	rules, _ = s.Rules(t.Context())
	if len(rules) != 1 || rules[0].Author != apitest.Principal.Name || rules[0].Comment != "our <scanner>" {
		t.Fatalf("stored rules %+v", rules)
	}
	_, _, doc = page(t, base+"/rules?notice=created")
	checkSafe(t, "/rules", doc)
	if txt := text(doc); !strings.Contains(txt, "ip cidr "+apitest.TorIP+"/32") || !strings.Contains(txt, "enabled") {
		t.Fatalf("rules page: %s", txt)
	}
	resp, err = noRedirect.PostForm(base+"/rules/"+rules[0].ID+"/expire", url.Values{"csrf": {apitest.Principal.CSRF}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 {
		t.Fatalf("expire: %d", resp.StatusCode)
	}
	if _, _, doc = page(t, base+"/rules/"+rules[0].ID); !strings.Contains(text(doc), "expired") {
		t.Errorf("the rule's page does not say it ended: %s", text(doc))
	}

	// A bad matcher comes back with the problem, not a saved rule.
	form.Set("value", "10.0.0.0/33")
	form["value"] = []string{"10.0.0.0/33", "", ""}
	resp, err = noRedirect.PostForm(base+"/rules", form)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 400 || !strings.Contains(body, "10.0.0.0/33") {
		t.Errorf("bad cidr: %d %s", resp.StatusCode, body)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
