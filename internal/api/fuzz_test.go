package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"vaultwatch/internal/api"
	"vaultwatch/internal/api/apitest"
	"vaultwatch/internal/auth"
)

// FuzzQuery sends any query string to every GET route: the answer is
// never a server error, and a JSON route answers JSON.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{"", "limit=5", "from=2026-11-20&to=2026-11-19", "bucket=1s&from=2000-01-01",
		"ip=%zz", "cursor=1.1", "cursor=zz.zz", "vault=%2F", "entity=%00", "offset=99999999999999999999",
		"type=tor-access&severity=high&status=active", "bucket=9999999999d", "from=0001-01-01T00:00:00Z"} {
		f.Add(q)
	}
	s := apitest.Filled(f)
	routes := api.Routes(apitest.Deps(s))
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.Handle(r.MuxPattern(), r.Handler)
	}
	var paths []string
	for _, r := range routes {
		if r.Method == "GET" && strings.HasPrefix(r.Pattern, "/api/v1/") {
			paths = append(paths, strings.ReplaceAll(r.Pattern, "{id}", apitest.TorAlertID))
		}
	}
	ctx := auth.WithPrincipal(f.Context(), apitest.Principal)
	f.Fuzz(func(t *testing.T, q string) {
		for _, p := range paths {
			req := httptest.NewRequestWithContext(ctx, "GET", "http://127.0.0.1/", nil)
			req.URL.Path, req.URL.RawQuery = p, q
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("GET %s?%s: %d %s", p, q, rec.Code, rec.Body)
			}
			if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("GET %s?%s: invalid JSON %s", p, q, rec.Body)
			}
		}
	})
}
