package ui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"vaultwatch/internal/api/apitest"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/ui"
)

// FuzzPageQuery sends any query string to the pages that read one: the
// answer is never a server error and parses as HTML.
func FuzzPageQuery(f *testing.F) {
	for _, q := range []string{"", "severity=high", "from=2026-11-20T09:00", "offset=-1", "ip=::1&cursor=x",
		"upn=%3Cscript%3E", "range=30d", "notice=updated&problem=conflict", "vault=%2F&entity=%00"} {
		f.Add(q)
	}
	mux := http.NewServeMux()
	for _, r := range ui.Routes(apitest.Deps(apitest.Filled(f))) {
		mux.Handle(r.MuxPattern(), r.Handler)
	}
	ctx := auth.WithPrincipal(f.Context(), apitest.Principal)
	paths := []string{"/", "/alerts", "/alerts/" + apitest.TorAlertID, "/investigate", "/vaults/" + apitest.HVault}
	f.Fuzz(func(t *testing.T, q string) {
		for _, p := range paths {
			req := httptest.NewRequestWithContext(ctx, "GET", "http://127.0.0.1/", nil)
			req.URL.Path, req.URL.RawQuery = p, q
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("GET %s?%s: %d %s", p, q, rec.Code, rec.Body)
			}
			if _, err := html.Parse(strings.NewReader(rec.Body.String())); err != nil {
				t.Fatalf("GET %s?%s: %v", p, q, err)
			}
		}
	})
}
