package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/api"
	"vaultwatch/internal/api/apitest"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/store"
	"vaultwatch/internal/ui"
)

// serve mounts the API and the pages over s for caller p.
func serve(t *testing.T, s store.Store, p auth.Principal) string {
	t.Helper()
	d := apitest.Deps(s)
	d.Metrics = api.NewMetrics(d.Sources)
	return apitest.Serve(t, p, api.Routes(d), ui.Routes(d)).URL
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// page fetches a page and checks it is well-formed and safe; it returns
// the status, the body and the parsed document.
func page(t *testing.T, u string) (int, string, *html.Node) {
	t.Helper()
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("%s: content type %q: %s", u, ct, body)
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	checkSafe(t, u, doc)
	return resp.StatusCode, body, doc
}

// checkSafe asserts what the Content-Security-Policy (default-src 'self')
// needs: no inline script, no event handler attribute, no inline style;
// and that every POST form carries the anti-forgery token.
func checkSafe(t *testing.T, u string, doc *html.Node) {
	t.Helper()
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
				t.Errorf("%s: <%s %s=%q> breaks the Content-Security-Policy", u, n.Data, a.Key, a.Val)
			}
			if (a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.HasPrefix(strings.ToLower(a.Val), "javascript:") {
				t.Errorf("%s: %s=%q", u, a.Key, a.Val)
			}
		}
		switch n.Data {
		case "script":
			if attr(n, "src") == "" || n.FirstChild != nil {
				t.Errorf("%s: inline script", u)
			}
		case "style":
			t.Errorf("%s: inline style element", u)
		case "form":
			if strings.EqualFold(attr(n, "method"), "post") && attr(n, "action") != "/login" {
				var csrf string
				walk(n, func(c *html.Node) {
					if c.Type == html.ElementNode && c.Data == "input" && attr(c, "name") == "csrf" && attr(c, "type") == "hidden" {
						csrf = attr(c, "value")
					}
				})
				if csrf != apitest.Principal.CSRF && csrf != "viewer-csrf" {
					t.Errorf("%s: form to %s has csrf %q", u, attr(n, "action"), csrf)
				}
			}
		}
	})
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// links returns the local GET links of a document.
func links(doc *html.Node) []string {
	var out []string
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			if h := attr(n, "href"); strings.HasPrefix(h, "/") {
				out = append(out, h)
			}
		}
	})
	return out
}

// text returns a document's text, whitespace collapsed.
func text(doc *html.Node) string {
	var b strings.Builder
	walk(doc, func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteString(" ")
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestPages(t *testing.T) {
	base := serve(t, apitest.Filled(t), apitest.Principal)
	tests := []struct {
		path string
		code int
		want []string
	}{
		{"/", 200, []string{"Open alerts 3", "kv-payments-prod", "1 open high", "eventhub", "broker unreachable", "alice responder", "Sign out"}},
		{"/alerts", 200, []string{"3 alert(s)", "Access from a Tor exit node"}},
		{"/alerts?severity=medium", 200, []string{"1 alert(s)", "Unusual address"}},
		{"/alerts?vault=" + url.QueryEscape(apitest.HVault), 200, []string{"1 alert(s)"}},
		{"/alerts?entity=" + apitest.TorIP + "&status=active&type=tor-access&from=2026-11-20T09:00&to=2026-11-21", 200, []string{"1 alert(s)"}},
		{"/alerts?severity=critical&from=soon", 400, []string{`severity "critical" is not one of`, `from: "soon" is not a time`}},
		{"/alerts/" + apitest.TorAlertID, 200, []string{
			"198.51.100.23", "tor", apitest.Mallory, "db-password", "stripe-api-key", "signing-cert",
			"4 calls came from 198.51.100.23", "Identify the source", "Rotate what was touched", "az ", "Copy",
			"active", "vaultwatch", "Change the status", "T1555.006"}},
		{"/alerts/" + apitest.RootAlertID, 200, []string{"kv-payments", "root", "vault "}},
		{"/alerts/vw-missing", 404, []string{"not found"}},
		{"/vaults/" + url.PathEscape(apitest.AzureVault), 200, []string{
			"kv-payments-prod", "41 (1 denied)", "Top callers", apitest.AliceOID, "Known users (2)", "203.0.113.0/24", "Table of this chart"}},
		{"/vaults/" + url.PathEscape(apitest.AzureVault) + "?range=7d", 200, []string{"kv-payments-prod"}},
		{"/vaults/" + url.PathEscape(apitest.AzureVault) + "?range=1y", 400, []string{`range "1y"`}},
		{"/vaults/" + apitest.HVault, 200, []string{"kv-payments", "No baseline is available"}},
		{"/vaults/nope", 404, []string{"not found"}},
		{"/investigate", 200, []string{"Give an IP address"}},
		{"/investigate?ip=" + apitest.TorIP, 200, []string{"4 event(s)", "Export CSV", "denied", "curl/8.5.0"}},
		{"/investigate?upn=" + apitest.Alice + "&from=2026-11-20T11:00&to=2026-11-20T12:00", 200, []string{"6 event(s)"}},
		{"/investigate?ip=bogus", 400, []string{`parameter ip: "bogus" is not an IP address`}},
		{"/investigate?upn=x&cursor=zzz", 400, []string{"bad page cursor"}},
		{"/investigate?upn=nobody", 200, []string{"No operation matches"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, _, doc := page(t, base+tt.path)
			txt := text(doc)
			if code != tt.code {
				t.Errorf("status %d, want %d: %s", code, tt.code, txt)
			}
			for _, w := range tt.want {
				if !strings.Contains(txt, w) {
					t.Errorf("page lacks %q:\n%s", w, txt)
				}
			}
		})
	}
}

// TestLinks follows every local link of the main pages: each answers 200.
func TestLinks(t *testing.T) {
	base := serve(t, apitest.Filled(t), apitest.Principal)
	seen := map[string]bool{}
	for _, p := range []string{"/", "/alerts", "/alerts/" + apitest.TorAlertID, "/alerts/" + apitest.NastyAlertID,
		"/vaults/" + url.PathEscape(apitest.AzureVault), "/investigate?ip=" + apitest.TorIP} {
		_, _, doc := page(t, base+p)
		for _, l := range links(doc) {
			if seen[l] {
				continue
			}
			seen[l] = true
			resp, err := noRedirect.Get(base + l)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("link %s on %s: status %d", l, p, resp.StatusCode)
			}
		}
	}
	if len(seen) < 20 {
		t.Errorf("only %d links followed", len(seen))
	}
}

func TestEscaping(t *testing.T) {
	base := serve(t, apitest.Filled(t), apitest.Principal)
	for _, p := range []string{"/alerts/" + apitest.NastyAlertID, "/alerts", "/", "/investigate?ip=192.0.2.7", "/investigate?ip=" + apitest.TorIP} {
		code, body, doc := page(t, base+p)
		if code != 200 {
			t.Fatalf("%s: %d", p, code)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, `" onmouseover="`) {
			t.Errorf("%s: markup from an alert reached the page unescaped", p)
		}
		if p == "/alerts/"+apitest.NastyAlertID && !strings.Contains(text(doc), apitest.Nasty) {
			t.Errorf("%s: the alert's text is not shown (escaped) at all", p)
		}
	}
}

func TestStatusForm(t *testing.T) {
	s := apitest.Filled(t)
	base := serve(t, s, apitest.Principal)
	post := func(form url.Values) *http.Response {
		t.Helper()
		resp, err := noRedirect.PostForm(base+"/alerts/"+apitest.TorAlertID+"/status", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	csrf := apitest.Principal.CSRF
	resp := post(url.Values{"csrf": {csrf}, "status": {"in-progress"}, "comment": {"calling <Mallory>"}, "version": {"1"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/alerts/"+apitest.TorAlertID+"?notice=updated#status" {
		t.Fatalf("change: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = post(url.Values{"csrf": {csrf}, "status": {"resolved"}, "version": {"1"}})
	if resp.StatusCode != 303 || !strings.Contains(resp.Header.Get("Location"), "problem=conflict") {
		t.Fatalf("stale change: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, bad := range []url.Values{
		{"csrf": {csrf}, "status": {"closed"}},
		{"csrf": {csrf}, "status": {"resolved"}, "version": {"x"}},
	} {
		if resp := post(bad); resp.StatusCode != 400 {
			t.Errorf("%v: %d, want 400", bad, resp.StatusCode)
		}
	}
	_, _, doc := page(t, base+"/alerts/"+apitest.TorAlertID+"?notice=updated")
	txt := text(doc)
	for _, w := range []string{"The status was changed", "in progress", "alice", "calling <Mallory>"} {
		if !strings.Contains(txt, w) {
			t.Errorf("after the change the page lacks %q", w)
		}
	}
	_, _, doc = page(t, base+"/alerts/"+apitest.TorAlertID+"?problem=conflict&notice=<b>x</b>")
	if txt := text(doc); !strings.Contains(txt, "Someone changed this alert") || strings.Contains(txt, "<b>x</b>") {
		t.Errorf("conflict page: %s", txt)
	}
	h, err := s.History(t.Context(), apitest.TorAlertID)
	if err != nil || len(h) != 2 || h[1].By != "alice" || h[1].Status != store.StatusInProgress {
		t.Errorf("history %+v %v", h, err)
	}
}

func TestViewer(t *testing.T) {
	base := serve(t, apitest.Filled(t), auth.Principal{Name: "victor", Role: auth.RoleViewer, CSRF: "viewer-csrf"})
	_, _, doc := page(t, base+"/alerts/"+apitest.TorAlertID)
	txt := text(doc)
	if strings.Contains(txt, "Change the status") || !strings.Contains(txt, "needs the responder role") {
		t.Errorf("a viewer sees the status form: %s", txt)
	}
	resp, err := noRedirect.PostForm(base+"/alerts/"+apitest.TorAlertID+"/status", url.Values{"status": {"resolved"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("viewer status change: %d", resp.StatusCode)
	}
}

func TestEmptyStore(t *testing.T) {
	s := apitest.Open(t)
	base := apitest.Serve(t, apitest.Principal, ui.Routes(api.Deps{Store: s})).URL
	for p, want := range map[string]string{
		"/":                   "No open alerts",
		"/alerts":             "No alert matches",
		"/investigate?ip=::1": "No operation matches",
	} {
		code, _, doc := page(t, base+p)
		if txt := text(doc); code != 200 || !strings.Contains(txt, want) {
			t.Errorf("%s: %d, want %q in %s", p, code, want, txt)
		}
	}
	_, _, doc := page(t, base+"/")
	for _, w := range []string{"No vault has sent an event yet", "No live sources", "Nothing in this period"} {
		if !strings.Contains(text(doc), w) {
			t.Errorf("empty overview lacks %q", w)
		}
	}
}

func TestLoginPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ui.LoginPage(w, r, r.URL.Query().Get("err"))
	}))
	defer srv.Close()
	code, body, doc := page(t, srv.URL+"/login?next=/alerts/x")
	if code != 200 || !strings.Contains(body, `name="next" value="/alerts/x"`) || !strings.Contains(body, `type="password"`) {
		t.Errorf("login: %d %s", code, body)
	}
	if strings.Contains(text(doc), "Sign out") {
		t.Errorf("the login page shows a signed-in header")
	}
	code, body, _ = page(t, srv.URL+"/login?next=//evil.example/&err="+url.QueryEscape("Wrong user name or password <b>"))
	if code != 401 || strings.Contains(body, "evil.example") || !strings.Contains(body, "Wrong user name or password &lt;b&gt;") {
		t.Errorf("failed login: %d %s", code, body)
	}
}

func TestStatic(t *testing.T) {
	base := serve(t, apitest.Open(t), apitest.Principal)
	for p, ct := range map[string]string{"/static/style.css": "text/css", "/static/copy.js": "javascript"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), ct) {
			t.Errorf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if resp, err := http.Get(base + "/static/nope.css"); err != nil || resp.StatusCode != 404 {
		t.Errorf("missing static file: %v %v", resp.StatusCode, err)
	}
}

func TestRoles(t *testing.T) {
	for _, r := range ui.Routes(api.Deps{Store: apitest.Open(t)}) {
		switch {
		case strings.HasPrefix(r.Pattern, "/static/"):
			if r.Role != "" {
				t.Errorf("%s: role %q; static files are anonymous (the login page needs them)", r.MuxPattern(), r.Role)
			}
		case !auth.ValidRole(r.Role):
			t.Errorf("%s: role %q is not a role", r.MuxPattern(), r.Role)
		case r.Method != "GET" && !auth.Allows(r.Role, auth.RoleResponder):
			t.Errorf("%s changes state with role %s", r.MuxPattern(), r.Role)
		}
	}
}

// TestCrossVaultAlert shows an alert over several vaults, one of which
// never had an event indexed: its vault page still lists the alert.
func TestCrossVaultAlert(t *testing.T) {
	s := apitest.Filled(t)
	hr := "/subscriptions/6a1f0c2e-0000-4000-8000-000000000001/resourcegroups/rg-hr/providers/microsoft.keyvault/vaults/kv-hr"
	a := &alert.Alert{
		Type: alert.ManyVaults, StartTime: apitest.Now.Add(-time.Hour), EndTime: apitest.Now.Add(-time.Hour / 2),
		Vault:       alert.Vault{Provider: "azure-keyvault", ID: apitest.AzureVault, Name: apitest.AzureName},
		Vaults:      []alert.Vault{{Provider: "azure-keyvault", ID: apitest.AzureVault, Name: apitest.AzureName}, {Provider: "azure-keyvault", ID: hr, Name: "kv-hr"}},
		Entities:    alert.Entities{UPNs: []string{apitest.Mallory}},
		Explanation: "Mallory used 2 vaults within an hour.",
		Count:       5,
	}
	a.Fill()
	if err := s.Commit(t.Context(), &store.Batch{Alerts: []*alert.Alert{a}, Now: apitest.Now}); err != nil {
		t.Fatal(err)
	}
	base := serve(t, s, apitest.Principal)
	_, _, doc := page(t, base+"/alerts/"+a.ID)
	if txt := text(doc); !strings.Contains(txt, "kv-hr") || !strings.Contains(txt, "Vaults") {
		t.Errorf("cross-vault alert page: %s", txt)
	}
	code, _, doc := page(t, base+"/vaults/"+url.PathEscape(hr))
	if txt := text(doc); code != 200 || !strings.Contains(txt, "kv-hr") || !strings.Contains(txt, "Alerts 1") {
		t.Errorf("vault without events: %d %s", code, txt)
	}
}
