package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"vaultwatch/internal/api"
	"vaultwatch/internal/api/apitest"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/store"
)

// fixture serves the API over the filled store as a responder.
func fixture(t *testing.T) (string, store.Store) {
	t.Helper()
	s := apitest.Filled(t)
	srv := apitest.Serve(t, apitest.Principal, api.Routes(apitest.Deps(s)))
	return srv.URL, s
}

// do sends a request and returns the status, headers and body.
func do(t *testing.T, method, u string, body string, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	code, _, b := do(t, "GET", u, "", nil)
	return code, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func alertIDs(p store.AlertPage) []string {
	var ids []string
	for _, a := range p.Alerts {
		ids = append(ids, a.Alert.ID)
	}
	return ids
}

func TestAlertsList(t *testing.T) {
	base, _ := fixture(t)
	all := []string{apitest.TorAlertID, apitest.RootAlertID, apitest.NastyAlertID}
	tests := []struct {
		query string
		want  []string
		total int
	}{
		{"", all, 3},
		{"?vault=" + url.QueryEscape(apitest.AzureVault), []string{apitest.TorAlertID, apitest.NastyAlertID}, 2},
		{"?type=tor-access", []string{apitest.TorAlertID}, 1},
		{"?severity=medium", []string{apitest.NastyAlertID}, 1},
		{"?severity=high&status=active", []string{apitest.TorAlertID, apitest.RootAlertID}, 2},
		{"?status=resolved", nil, 0},
		{"?entity=" + strings.ToUpper(apitest.Mallory), []string{apitest.TorAlertID}, 1},
		{"?entity=" + apitest.TorIP, []string{apitest.TorAlertID}, 1},
		{"?from=2026-11-20T08:00:00Z", []string{apitest.TorAlertID, apitest.RootAlertID}, 2},
		{"?to=2026-11-20", []string{apitest.NastyAlertID}, 1},
		{"?limit=1", all[:1], 3},
		{"?limit=1&offset=1", all[1:2], 3},
		{"?limit=2&offset=2", all[2:], 3},
		{"?offset=9", nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, b := get(t, base+"/api/v1/alerts"+tt.query)
			if code != 200 {
				t.Fatalf("status %d: %s", code, b)
			}
			p := decode[store.AlertPage](t, b)
			if got := alertIDs(p); !slices.Equal(got, tt.want) || p.Total != tt.total {
				t.Errorf("got %v (total %d), want %v (total %d)", got, p.Total, tt.want, tt.total)
			}
			if !bytes.Contains(b, []byte(`"alerts":[`)) {
				t.Errorf("alerts is not a list: %s", b)
			}
		})
	}
}

func TestBadQueries(t *testing.T) {
	base, _ := fixture(t)
	tests := []struct{ path, want string }{
		{"/api/v1/alerts?severity=critical", `severity: "critical" is not one of low, medium, high`},
		{"/api/v1/alerts?type=nope", `parameter type: "nope" is not one of tor-access`},
		{"/api/v1/alerts?status=open", `parameter status`},
		{"/api/v1/alerts?limit=0", `parameter limit: "0" is not a whole number from 1 to 1000`},
		{"/api/v1/alerts?limit=abc", `parameter limit`},
		{"/api/v1/alerts?offset=-1", `parameter offset`},
		{"/api/v1/alerts?from=yesterday", `parameter from: "yesterday" is not a time`},
		{"/api/v1/alerts?from=2026-11-20&to=2026-11-19", `is not before to`},
		{"/api/v1/alerts?sevrity=high", `unknown parameter "sevrity"`},
		{"/api/v1/alerts?limit=1&limit=2", `parameter "limit" given 2 times`},
		{"/api/v1/events?ip=not-an-ip", `parameter ip: "not-an-ip" is not an IP address`},
		{"/api/v1/events?cursor=zzz", `bad page cursor`},
		{"/api/v1/events.csv?cursor=zzz", `bad page cursor`},
		{"/api/v1/events.csv?bogus=1", `unknown parameter "bogus"`},
		{"/api/v1/stats/alerts?bucket=0s", `parameter bucket`},
		{"/api/v1/stats/alerts?bucket=1s&from=2026-01-01", `more than 2000`},
		{"/api/v1/stats/alerts?from=2026-11-21&to=2026-11-20", `is not before to`},
		{"/api/v1/vaults/" + url.PathEscape(apitest.AzureVault) + "/activity?bucket=xyz", `parameter bucket: "xyz"`},
		{"/api/v1/vaults/" + url.PathEscape(apitest.AzureVault) + "/callers?limit=0", `parameter limit`},
		{"/api/v1/vaults?x=1", `unknown parameter "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, b := get(t, base+tt.path)
			if code != 400 {
				t.Fatalf("status %d, want 400: %s", code, b)
			}
			e := decode[map[string]string](t, b)
			if !strings.Contains(e["error"], tt.want) {
				t.Errorf("error %q, want it to contain %q", e["error"], tt.want)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	base, _ := fixture(t)
	for _, p := range []string{
		"/api/v1/alerts/vw-none",
		"/api/v1/vaults/" + url.PathEscape("/subscriptions/x/vaults/none"),
		"/api/v1/vaults/none/activity",
		"/api/v1/vaults/none/callers",
		"/api/v1/vaults/none/baseline",
		"/api/v1/vaults/" + url.PathEscape(apitest.HVault) + "/baseline", // nothing learned
	} {
		code, b := get(t, base+p)
		if code != 404 || !strings.Contains(string(b), `"error"`) {
			t.Errorf("%s: status %d, body %s; want 404 with an error", p, code, b)
		}
	}
	code, b, _ := do(t, "POST", base+"/api/v1/alerts/vw-none/status", `{"status":"resolved"}`, map[string]string{"Content-Type": "application/json"})
	if code != 404 {
		t.Errorf("status of a missing alert: %d %s", code, b)
	}
}

func TestAlertAndStatus(t *testing.T) {
	base, s := fixture(t)
	u := base + "/api/v1/alerts/" + apitest.TorAlertID
	code, hdr, b := do(t, "GET", u, "", nil)
	if code != 200 {
		t.Fatalf("get: %d %s", code, b)
	}
	d := decode[api.AlertDetail](t, b)
	if d.Alert.ID != apitest.TorAlertID || d.Status != store.StatusActive || d.Version != 1 || len(d.History) != 1 {
		t.Fatalf("got %+v", d)
	}
	if hdr.Get("ETag") != `"1"` {
		t.Errorf("ETag %q", hdr.Get("ETag"))
	}
	if code, _, _ := do(t, "GET", u, "", map[string]string{"If-None-Match": `"1"`}); code != 304 {
		t.Errorf("If-None-Match: %d, want 304", code)
	}

	json := map[string]string{"Content-Type": "application/json"}
	withIfMatch := func(v string) map[string]string {
		return map[string]string{"Content-Type": "application/json", "If-Match": v}
	}
	steps := []struct {
		name string
		body string
		hdr  map[string]string
		code int
		want string
	}{
		{"not json", `status=resolved`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "JSON"},
		{"bad status", `{"status":"closed"}`, json, 400, `closed\" is not one of`},
		{"unknown field", `{"status":"resolved","by":"eve"}`, json, 400, `unknown field \"by\"`},
		{"two values", `{"status":"resolved"}{}`, json, 400, "more than one"},
		{"long comment", `{"status":"resolved","comment":"` + strings.Repeat("x", 5000) + `"}`, json, 400, "comment is 5000 bytes"},
		{"bad if-match", `{"status":"resolved"}`, withIfMatch("abc"), 400, "If-Match"},
		{"stale if-match", `{"status":"in-progress"}`, withIfMatch(`"7"`), 412, "version 1, not 7"},
		{"in progress", `{"status":"in-progress","comment":"looking <b>now</b>"}`, withIfMatch(`"1"`), 200, `"version":2`},
		{"stale again", `{"status":"resolved"}`, withIfMatch(`"1"`), 412, "version conflict"},
		{"resolved without if-match", `{"status":"resolved","comment":"rotated"}`, json, 200, `"status":"resolved"`},
	}
	for _, st := range steps {
		code, _, b := do(t, "POST", u+"/status", st.body, st.hdr)
		if code != st.code || !strings.Contains(string(b), st.want) {
			t.Errorf("%s: %d %s; want %d containing %q", st.name, code, b, st.code, st.want)
		}
	}
	h, err := s.History(t.Context(), apitest.TorAlertID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[1].By != "alice" || h[1].Comment != "looking <b>now</b>" || !h[1].At.Equal(apitest.Now) || h[2].Status != store.StatusResolved {
		t.Errorf("history %+v", h)
	}
}

// TestStatusChecksCaller runs the status change without the middleware in
// front (a misconfiguration): the handler still refuses.
func TestStatusChecksCaller(t *testing.T) {
	s := apitest.Filled(t)
	var rt api.Route
	for _, r := range api.Routes(apitest.Deps(s)) {
		if r.Pattern == "/api/v1/alerts/{id}/status" {
			rt = r
		}
	}
	for _, tt := range []struct {
		p    *auth.Principal
		code int
	}{
		{nil, 401},
		{&auth.Principal{Name: "victor", Role: auth.RoleViewer}, 403},
		{&auth.Principal{Name: "token:ci", Role: "ingest", Token: true}, 403},
	} {
		mux := http.NewServeMux()
		mux.Handle(rt.MuxPattern(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tt.p != nil {
				r = r.WithContext(auth.WithPrincipal(r.Context(), *tt.p))
			}
			rt.Handler.ServeHTTP(w, r)
		}))
		srv := httptest.NewServer(mux)
		code, _, b := do(t, "POST", srv.URL+"/api/v1/alerts/"+apitest.TorAlertID+"/status", `{"status":"resolved"}`, map[string]string{"Content-Type": "application/json"})
		srv.Close()
		if code != tt.code {
			t.Errorf("%+v: %d %s, want %d", tt.p, code, b, tt.code)
		}
	}
}

func TestVaults(t *testing.T) {
	base, _ := fixture(t)
	code, b := get(t, base+"/api/v1/vaults")
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	vs := decode[struct{ Vaults []store.VaultSummary }](t, b).Vaults
	if len(vs) != 2 {
		t.Fatalf("vaults %+v", vs)
	}
	esc := url.PathEscape(apitest.AzureVault)
	if !strings.Contains(esc, "%2F") {
		t.Fatalf("escaped id %q", esc)
	}
	code, b = get(t, base+"/api/v1/vaults/"+esc)
	if v := decode[store.VaultSummary](t, b); code != 200 || v.ID != apitest.AzureVault || v.Events != 41 || v.Denials != 1 {
		t.Errorf("vault: %d %s", code, b)
	}
	code, b = get(t, base+"/api/v1/vaults/"+url.PathEscape(apitest.HVault))
	if v := decode[store.VaultSummary](t, b); code != 200 || v.ID != apitest.HVault {
		t.Errorf("Vault mount: %d %s", code, b)
	}

	code, b = get(t, base+"/api/v1/vaults/"+esc+"/activity?from=2026-11-20T06:00:00Z&to=2026-11-20T12:00:00Z&bucket=1h")
	act := decode[api.Series[store.ActivityPoint]](t, b)
	if code != 200 || len(act.Points) != 6 || act.Bucket != "1h" {
		t.Fatalf("activity: %d %s", code, b)
	}
	var ops, denials int64
	for _, p := range act.Points {
		ops += p.Operations
		denials += p.Denials
	}
	if ops != 41 || denials != 1 {
		t.Errorf("activity: %d operations, %d denials", ops, denials)
	}
	code, b = get(t, base+"/api/v1/vaults/"+esc+"/activity") // default: the last day
	if act := decode[api.Series[store.ActivityPoint]](t, b); code != 200 || len(act.Points) != 24 || !act.To.Equal(apitest.Now) {
		t.Errorf("default activity: %d %d points to %v", code, len(act.Points), act.To)
	}

	code, b = get(t, base+"/api/v1/vaults/"+esc+"/callers?limit=2")
	cs := decode[struct{ Callers []store.CallerCount }](t, b).Callers
	if code != 200 || len(cs) != 2 || cs[0].Principal != apitest.AliceOID || cs[0].Operations != 36 || cs[1].Denials != 1 {
		t.Errorf("callers: %d %s", code, b)
	}

	code, b = get(t, base+"/api/v1/vaults/"+esc+"/baseline")
	bl := decode[api.Baseline](t, b)
	if code != 200 || len(bl.Users) != 2 || bl.Users[0].Name != apitest.Alice || bl.Networks[0].Prefix != "203.0.113.0/24" {
		t.Errorf("baseline: %d %s", code, b)
	}
}

func TestEvents(t *testing.T) {
	base, _ := fixture(t)
	count := func(q string) (int, string) {
		t.Helper()
		code, b := get(t, base+"/api/v1/events"+q)
		if code != 200 {
			t.Fatalf("%s: %d %s", q, code, b)
		}
		p := decode[store.EventPage](t, b)
		return len(p.Events), p.Next
	}
	tests := []struct {
		q    string
		want int
	}{
		{"", 42},
		{"?ip=" + apitest.TorIP, 4},
		{"?ip=::ffff:" + apitest.TorIP, 4},
		{"?upn=" + strings.ToUpper(apitest.Mallory), 4},
		{"?object_id=" + apitest.AliceOID, 36},
		{"?app_id=" + apitest.AppID, 40},
		{"?principal=" + apitest.MalloryOID, 4},
		{"?vault=" + url.QueryEscape(apitest.HVault), 1},
		{"?object=db-password", 1},
		{"?ip=" + apitest.OfficeIP + "&from=2026-11-20T11:00:00Z", 6},
		{"?ip=" + apitest.OfficeIP + "&to=2026-11-20T06:10", 1},
		{"?upn=nobody@contoso.com", 0},
	}
	for _, tt := range tests {
		if n, _ := count(tt.q); n != tt.want {
			t.Errorf("%q: %d events, want %d", tt.q, n, tt.want)
		}
	}
	// Paging with the cursor visits every event once.
	seen, next, pages := 0, "", 0
	for {
		n, nx := count("?limit=10&object_id=" + apitest.AliceOID + "&cursor=" + url.QueryEscape(next))
		seen += n
		pages++
		if nx == "" {
			break
		}
		next = nx
	}
	if seen != 36 || pages != 4 {
		t.Errorf("paged %d events in %d pages, want 36 in 4", seen, pages)
	}
}

func TestEventsCSV(t *testing.T) {
	base, _ := fixture(t)
	code, hdr, b := do(t, "GET", base+"/api/v1/events.csv", "", nil)
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || !strings.Contains(hdr.Get("Content-Disposition"), "attachment") {
		t.Fatalf("%d %v", code, hdr)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 43 || !slices.Equal(rows[0], api.CSVHeader) {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	upn := slices.Index(api.CSVHeader, "upn")
	var found bool
	for _, r := range rows[1:] {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("cell %q starts a formula", c)
			}
		}
		if r[upn] == "'"+apitest.Formula {
			found = true
		}
	}
	if !found {
		t.Errorf("the formula UPN is not escaped with a leading apostrophe")
	}
	// The export follows the cursor past one store page.
	code, _, b = do(t, "GET", base+"/api/v1/events.csv?limit=5&object_id="+apitest.AliceOID, "", nil)
	if n := bytes.Count(b, []byte("\n")); code != 200 || n != 37 {
		t.Errorf("%d, %d lines, want 37", code, n)
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"":           "",
		"plain":      "plain",
		"=1+2":       "'=1+2",
		"+1":         "'+1",
		"-1":         "'-1",
		"@SUM(A1)":   "'@SUM(A1)",
		"\tx":        "'\tx",
		"\rx":        "'\rx",
		"a=b":        "a=b",
		"2026-11-20": "2026-11-20",
	} {
		if got := api.CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSourcesStatsHealth(t *testing.T) {
	base, _ := fixture(t)
	code, b := get(t, base+"/api/v1/sources")
	if code != 200 || !strings.Contains(string(b), `"name":"eventhub"`) {
		t.Errorf("sources: %d %s", code, b)
	}
	code, b = get(t, base+"/api/v1/stats/alerts?from=2026-11-19T00:00:00Z&to=2026-11-21T00:00:00Z&bucket=1d")
	st := decode[api.Series[store.CountPoint]](t, b)
	if code != 200 || len(st.Points) != 2 || st.Points[0].Total != 1 || st.Points[1].Total != 2 || st.Points[1].BySeverity["high"] != 2 {
		t.Errorf("stats: %d %s", code, b)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, b := get(t, base+p); code != 200 {
			t.Errorf("%s: %d %s", p, code, b)
		}
	}
	code, b = get(t, base+"/metrics")
	for _, want := range []string{
		`vaultwatch_source_lag{kind="kafka",source="eventhub",unit="messages"} 12`,
		`vaultwatch_source_errors_total{kind="kafka",source="eventhub"} 2`,
		`vaultwatch_http_requests_total{code="200",route="GET /api/v1/sources"} 1`,
		`vaultwatch_http_request_duration_seconds_count{route="GET /api/v1/stats/alerts"} 1`,
	} {
		if code != 200 || !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestEmptyStore(t *testing.T) {
	s := apitest.Open(t)
	srv := apitest.Serve(t, apitest.Principal, api.Routes(api.Deps{Store: s}))
	for p, want := range map[string]string{
		"/api/v1/alerts":       `{"alerts":[],"total":0}`,
		"/api/v1/vaults":       `{"vaults":[]}`,
		"/api/v1/events":       `{"events":[]}`,
		"/api/v1/sources":      `{"sources":[]}`,
		"/api/v1/stats/alerts": `"points":[`,
	} {
		code, b := get(t, srv.URL+p)
		if code != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %s, want %s", p, code, b, want)
		}
	}
	code, b := get(t, srv.URL+"/api/v1/events.csv")
	if code != 200 || strings.Count(string(b), "\n") != 1 {
		t.Errorf("empty CSV: %d %q", code, b)
	}
}

func TestReadyzStoreClosed(t *testing.T) {
	s := apitest.Open(t)
	srv := apitest.Serve(t, apitest.Principal, api.Routes(api.Deps{Store: s}))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if code, b := get(t, srv.URL+"/readyz"); code != 503 {
		t.Errorf("readyz with a closed store: %d %s", code, b)
	}
	if code, b := get(t, srv.URL+"/healthz"); code != 200 {
		t.Errorf("healthz: %d %s", code, b)
	}
	code, b := get(t, srv.URL+"/api/v1/alerts")
	if code != 500 || !strings.Contains(string(b), "internal error") {
		t.Errorf("alerts with a closed store: %d %s", code, b)
	}
}

func TestRoles(t *testing.T) {
	rs := api.Routes(api.Deps{Store: apitest.Open(t)})
	for _, r := range rs {
		switch {
		case r.Pattern == "/healthz" || r.Pattern == "/readyz":
			if r.Role != "" {
				t.Errorf("%s: role %q, want anonymous", r.MuxPattern(), r.Role)
			}
		case !auth.ValidRole(r.Role):
			t.Errorf("%s: role %q is not a role", r.MuxPattern(), r.Role)
		case r.Method != "GET" && !auth.Allows(r.Role, auth.RoleResponder):
			t.Errorf("%s changes state with role %s, want responder or more", r.MuxPattern(), r.Role)
		}
		if r.Summary == "" || r.Handler == nil {
			t.Errorf("%s: no summary or handler", r.MuxPattern())
		}
	}
	// A viewer reads but may not change a status.
	s := apitest.Filled(t)
	viewer := auth.Principal{Name: "victor", Role: auth.RoleViewer}
	srv := apitest.Serve(t, viewer, api.Routes(apitest.Deps(s)))
	if code, _ := get(t, srv.URL+"/api/v1/alerts"); code != 200 {
		t.Errorf("viewer list: %d", code)
	}
	if code, _, _ := do(t, "POST", srv.URL+"/api/v1/alerts/"+apitest.TorAlertID+"/status", `{"status":"resolved"}`, map[string]string{"Content-Type": "application/json"}); code != 403 {
		t.Errorf("viewer status change: %d, want 403", code)
	}
}

// TestOpenAPIMatchesRoutes checks the OpenAPI document against the route
// table: every route is documented with its method, every documented
// operation is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	base, _ := fixture(t)
	code, b := get(t, base+"/api/v1/openapi.json")
	if code != 200 {
		t.Fatalf("%d", code)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	routed := map[string]bool{}
	for _, r := range api.Routes(api.Deps{Store: apitest.Open(t)}) {
		key := strings.ToLower(r.Method) + " " + r.Pattern
		routed[key] = true
		if _, ok := doc.Paths[r.Pattern][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s is not in the OpenAPI document", r.MuxPattern())
		}
	}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			if !routed[m+" "+p] {
				t.Errorf("the OpenAPI document has %s %s, which is not routed", m, p)
			}
			var o struct {
				Summary   string
				Responses map[string]json.RawMessage
			}
			if err := json.Unmarshal(op, &o); err != nil || o.Summary == "" || len(o.Responses) == 0 {
				t.Errorf("%s %s: no summary or responses (%v)", m, p, err)
			}
		}
	}
}
