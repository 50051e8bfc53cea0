package ui_test

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"vaultwatch/internal/api"
	"vaultwatch/internal/api/apitest"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/ui"
)

// TestAdminPage adds a user, sets a password, disables the user, makes a
// token (shown once, stored as a hash) and revokes it, as an admin.
func TestAdminPage(t *testing.T) {
	s := apitest.Filled(t)
	d := apitest.Deps(s)
	d.Metrics = api.NewMetrics(d.Sources)
	d.Accounts = auth.New(s, auth.Options{})
	admin := auth.Principal{Name: "root-admin", Role: auth.RoleAdmin, CSRF: apitest.Principal.CSRF}
	base := apitest.Serve(t, admin, api.Routes(d), ui.Routes(d)).URL
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		form.Set("csrf", admin.CSRF)
		resp, err := noRedirect.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	if code, body := post("/admin/users", url.Values{"name": {"bob"}, "role": {"responder"}, "password": {"short"}}); code != 400 || !strings.Contains(body, "password") {
		t.Errorf("weak password: %d", code)
	}
	if code, _ := post("/admin/users", url.Values{"name": {"bob"}, "role": {"responder"}, "password": {"a long enough password"}}); code != 303 {
		t.Fatalf("add user: %d", code)
	}
	if _, err := d.Accounts.(*auth.Service).Authenticate(t.Context(), "bob", "a long enough password", netipLoopback()); err != nil {
		t.Fatalf("bob cannot sign in: %v", err)
	}
	if code, _ := post("/admin/users/bob/password", url.Values{"password": {"another long password"}}); code != 303 {
		t.Fatalf("set password: %d", code)
	}
	if code, _ := post("/admin/users/bob/disabled", url.Values{"disabled": {"true"}}); code != 303 {
		t.Fatalf("disable: %d", code)
	}
	if u, _ := s.User(t.Context(), "bob"); !u.Disabled {
		t.Error("bob is not disabled")
	}
	if code, _ := post("/admin/users/root-admin/disabled", url.Values{"disabled": {"true"}}); code != 400 {
		t.Errorf("an admin disabled themselves: %d", code)
	}
	code, body := post("/admin/tokens", url.Values{"name": {"prometheus"}, "role": {"viewer"}})
	if code != 200 || !strings.Contains(body, "vwt_") {
		t.Fatalf("make token: %d", code)
	}
	toks, _ := s.Tokens(t.Context())
	if len(toks) != 1 || toks[0].CreatedBy != "root-admin" || strings.Contains(body, toks[0].Hash) {
		t.Fatalf("stored tokens %+v", toks)
	}
	i := strings.Index(body, `<code id="new-token">`)
	if i < 0 {
		t.Fatal("the new token is not shown")
	}
	value, _, _ := strings.Cut(body[i+len(`<code id="new-token">`):], "</code>")
	if !strings.HasPrefix(value, "vwt_") || len(value) < 20 {
		t.Fatalf("token %q", value)
	}
	if _, _, doc := page(t, base+"/admin"); strings.Contains(text(doc), value) {
		t.Error("the token is shown again")
	}
	if code, _ := post("/admin/tokens/"+toks[0].ID+"/revoke", url.Values{}); code != 303 {
		t.Fatalf("revoke: %d", code)
	}
	if toks, _ = s.Tokens(t.Context()); !toks[0].Revoked {
		t.Error("not revoked")
	}
}

func netipLoopback() netip.Addr { return netip.MustParseAddr("127.0.0.1") }
