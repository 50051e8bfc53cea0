package auth

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"vaultwatch/internal/store"
)

func TestRequireMatrix(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	sessions := map[string][2]string{} // role -> session id, csrf
	tokens := map[string]string{}      // role -> token
	for _, role := range []string{RoleViewer, RoleResponder, RoleAdmin} {
		id, csrf := e.login(role, map[string]string{RoleViewer: viewerPW, RoleResponder: responderPW, RoleAdmin: adminPW}[role], "")
		sessions[role] = [2]string{id, csrf}
		tokens[role], _ = e.token("t-"+role, role, "")
	}
	tokens[RoleIngest], _ = e.token("t-ingest", RoleIngest, "azure")

	routes := []string{RoleViewer, RoleResponder, RoleAdmin}
	callers := []string{"", RoleIngest, RoleViewer, RoleResponder, RoleAdmin}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		for _, route := range routes {
			for _, caller := range callers {
				want := http.StatusOK
				switch {
				case caller == "":
					want = http.StatusUnauthorized
				case !Allows(caller, route):
					want = http.StatusForbidden
				}
				name := method + " " + route + " route, caller " + caller
				if caller == "" {
					name = method + " " + route + " route, anonymous"
				}
				t.Run(name+", API by token", func(t *testing.T) {
					resp := e.do(request{method: method, path: "/api/v1/" + route, bearer: tokens[caller]})
					check(t, resp, want, "application/json")
					if want == http.StatusOK {
						wantPrincipal(t, resp, Principal{Name: "token:t-" + caller, Role: caller, Token: true})
					}
				})
				if caller == RoleIngest {
					continue // ingest tokens have no session
				}
				t.Run(name+", API by session", func(t *testing.T) {
					s := sessions[caller]
					resp := e.do(request{method: method, path: "/api/v1/" + route, cookie: s[0], csrf: s[1]})
					check(t, resp, want, "application/json")
				})
				t.Run(name+", page", func(t *testing.T) {
					s := sessions[caller]
					var form url.Values
					if method == http.MethodPost && s[1] != "" {
						form = url.Values{"csrf": {s[1]}}
					}
					resp := e.do(request{method: method, path: "/pages/" + route + "?tab=1", cookie: s[0], form: form, html: true})
					if want == http.StatusUnauthorized {
						check(t, resp, http.StatusSeeOther, "")
						if got := resp.Header.Get("Location"); got != "/login?next="+url.QueryEscape("/pages/"+route+"?tab=1") {
							t.Errorf("Location %q", got)
						}
						return
					}
					check(t, resp, want, "")
					if want == http.StatusOK {
						wantPrincipal(t, resp, Principal{Name: caller, Role: caller, CSRF: s[1]})
					}
				})
			}
		}
	}
	t.Run("health check is anonymous", func(t *testing.T) {
		check(t, e.do(request{path: "/healthz"}), http.StatusOK, "")
	})
}

func check(t *testing.T, resp *http.Response, status int, contentType string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d", resp.StatusCode, status)
	}
	if contentType != "" && !strings.HasPrefix(resp.Header.Get("Content-Type"), contentType) {
		t.Errorf("Content-Type %q, want %s", resp.Header.Get("Content-Type"), contentType)
	}
	if status == http.StatusUnauthorized && contentType == "application/json" && resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
}

func wantPrincipal(t *testing.T, resp *http.Response, want Principal) {
	t.Helper()
	var p Principal
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p != want {
		t.Errorf("principal %+v, want %+v", p, want)
	}
}

func TestSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "secure"}[secure], func(t *testing.T) {
			e := newEnv(t, Options{SecureCookies: secure})
			e.users()
			resp := e.do(request{method: http.MethodPost, path: "/login", origin: e.srv.URL,
				form: url.Values{"name": {RoleViewer}, "password": {viewerPW}, "next": {"/alerts?id=3"}}})
			check(t, resp, http.StatusSeeOther, "")
			if got := resp.Header.Get("Location"); got != "/alerts?id=3" {
				t.Errorf("Location %q", got)
			}
			c := e.sessionCookie(resp)
			if c == nil {
				t.Fatal("no session cookie")
			}
			e.secret(c.Value)
			if c.Name != "vaultwatch_session" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
				c.Secure != secure || c.MaxAge != int((12*time.Hour)/time.Second) || c.Domain != "" {
				t.Errorf("cookie %s", c.String())
			}
			if !validSessionID(c.Value) {
				t.Errorf("session id %q is not 32 bytes of base64url", c.Value)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Error("login response may be cached")
			}
			// The store has the hash only.
			ses, err := e.st.Session(context.Background(), sha256Hex(c.Value))
			if err != nil {
				t.Fatal(err)
			}
			if ses.User != RoleViewer || ses.CSRF != sha256Hex(csrfToken(c.Value)) || !ses.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
				t.Errorf("stored session %+v", ses)
			}
		})
	}
}

func TestSessionExpiry(t *testing.T) {
	ctx := context.Background()
	t.Run("idle", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.users()
		id, _ := e.login(RoleViewer, viewerPW, "")
		e.clock.Advance(59 * time.Minute)
		if e.whoami(id) == nil {
			t.Fatal("session ended before the idle timeout")
		}
		e.clock.Advance(59 * time.Minute) // the previous request moved the expiry
		if e.whoami(id) == nil {
			t.Fatal("the idle timeout does not slide")
		}
		e.clock.Advance(time.Hour)
		resp := e.do(request{path: "/whoami", cookie: id})
		check(t, resp, http.StatusUnauthorized, "application/json")
		if c := e.sessionCookie(resp); c == nil || c.MaxAge >= 0 {
			t.Error("the dead session's cookie is not cleared")
		}
		if _, err := e.st.Session(ctx, sha256Hex(id)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the dead session is kept: %v", err)
		}
	})
	t.Run("refreshed at most once a minute", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.users()
		id, _ := e.login(RoleViewer, viewerPW, "")
		expires := func() time.Time {
			ses, err := e.st.Session(ctx, sha256Hex(id))
			if err != nil {
				t.Fatal(err)
			}
			return ses.ExpiresAt
		}
		first := expires()
		e.clock.Advance(30 * time.Second)
		e.whoami(id)
		if got := expires(); !got.Equal(first) {
			t.Errorf("expiry moved after 30s: %v -> %v", first, got)
		}
		e.clock.Advance(31 * time.Second)
		e.whoami(id)
		if got, want := expires(), e.clock.Now().Add(time.Hour); !got.Equal(want) {
			t.Errorf("expiry %v after 61s, want %v", got, want)
		}
	})
	t.Run("lifetime", func(t *testing.T) {
		e := newEnv(t, Options{SessionTTL: 3 * time.Hour})
		e.users()
		id, _ := e.login(RoleViewer, viewerPW, "")
		for range 3 { // 2h30 of activity
			e.clock.Advance(50 * time.Minute)
			if e.whoami(id) == nil {
				t.Fatalf("session ended at %v", e.clock.Now())
			}
		}
		e.clock.Advance(29 * time.Minute)
		if e.whoami(id) == nil {
			t.Fatal("session ended before its lifetime")
		}
		e.clock.Advance(time.Minute)
		if p := e.whoami(id); p != nil {
			t.Fatal("session outlived SessionTTL")
		}
	})
	t.Run("disabled user", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.users()
		id, _ := e.login(RoleViewer, viewerPW, "")
		u, _ := e.st.User(ctx, RoleViewer)
		u.Disabled = true
		if err := e.st.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if e.whoami(id) != nil {
			t.Error("a disabled user's session still works")
		}
	})
	t.Run("role change applies at once", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.users()
		id, _ := e.login(RoleViewer, viewerPW, "")
		check(t, e.do(request{path: "/api/v1/admin", cookie: id}), http.StatusForbidden, "application/json")
		u, _ := e.st.User(ctx, RoleViewer)
		u.Role = store.RoleAdmin
		if err := e.st.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		check(t, e.do(request{path: "/api/v1/admin", cookie: id}), http.StatusOK, "application/json")
	})
	t.Run("garbage cookie", func(t *testing.T) {
		e := newEnv(t, Options{})
		for _, v := range []string{"x", strings.Repeat("A", 43), strings.Repeat("!", 43)} {
			check(t, e.do(request{path: "/api/v1/viewer", cookie: v}), http.StatusUnauthorized, "application/json")
		}
	})
}

func TestSessionFixation(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	first, csrf1 := e.login(RoleViewer, viewerPW, "")
	// Logging in again, even as someone else, from a browser with a session
	// gives a new id and ends the old one.
	second, csrf2 := e.login(RoleAdmin, adminPW, first)
	if second == first || csrf2 == csrf1 {
		t.Fatal("the session id or CSRF token did not change at login")
	}
	if e.whoami(first) != nil {
		t.Error("the session from before the login still works")
	}
	if p := e.whoami(second); p == nil || p.Name != RoleAdmin {
		t.Errorf("new session: %+v", p)
	}
	// An id the attacker planted, unknown to the store, is never adopted.
	planted := randomToken(sessionIDBytes)
	third, _ := e.login(RoleViewer, viewerPW, planted)
	if third == planted {
		t.Error("a planted session id was adopted")
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	id, csrf := e.login(RoleResponder, responderPW, "")
	check(t, e.do(request{method: http.MethodPost, path: "/logout", cookie: id}), http.StatusForbidden, "application/json")
	resp := e.do(request{method: http.MethodPost, path: "/logout", cookie: id, form: url.Values{"csrf": {csrf}}, html: true})
	check(t, resp, http.StatusSeeOther, "")
	if c := e.sessionCookie(resp); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("cookie not cleared: %v", c)
	}
	if _, err := e.st.Session(context.Background(), sha256Hex(id)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session kept: %v", err)
	}
	if e.whoami(id) != nil {
		t.Error("the session works after logout")
	}
	// Logging out without a session is no error.
	rec := httptest.NewRecorder()
	if err := e.svc.Logout(rec, httptest.NewRequest(http.MethodPost, "/logout", nil)); err != nil {
		t.Error(err)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	id, csrf := e.login(RoleResponder, responderPW, "")
	other, _ := e.login(RoleViewer, viewerPW, "")
	tok, _ := e.token("api", RoleResponder, "")
	wrong := csrfToken(other)
	for _, tc := range []struct {
		name string
		rq   request
		want int
	}{
		{"GET needs no token", request{path: "/api/v1/responder", cookie: id}, 200},
		{"missing", request{method: "POST", path: "/api/v1/responder", cookie: id}, 403},
		{"wrong (another session's)", request{method: "POST", path: "/api/v1/responder", cookie: id, csrf: wrong}, 403},
		{"wrong form field", request{method: "POST", path: "/api/v1/responder", cookie: id, form: url.Values{"csrf": {"x"}}}, 403},
		{"right header", request{method: "POST", path: "/api/v1/responder", cookie: id, csrf: csrf}, 200},
		{"right form field", request{method: "POST", path: "/api/v1/responder", cookie: id, form: url.Values{"csrf": {csrf}}}, 200},
		{"PUT", request{method: "PUT", path: "/api/v1/responder", cookie: id, csrf: csrf}, 200},
		{"DELETE without", request{method: "DELETE", path: "/api/v1/responder", cookie: id}, 403},
		{"PATCH without", request{method: "PATCH", path: "/api/v1/responder", cookie: id}, 403},
		{"same origin", request{method: "POST", path: "/api/v1/responder", cookie: id, csrf: csrf, origin: e.srv.URL}, 200},
		{"cross origin", request{method: "POST", path: "/api/v1/responder", cookie: id, csrf: csrf, origin: "https://evil.example"}, 403},
		{"cross site fetch", request{method: "POST", path: "/api/v1/responder", cookie: id, csrf: csrf,
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403},
		{"same-origin fetch", request{method: "POST", path: "/api/v1/responder", cookie: id, csrf: csrf,
			header: map[string]string{"Sec-Fetch-Site": "same-origin"}}, 200},
		{"cross-origin login", request{method: "POST", path: "/login", origin: "https://evil.example",
			form: url.Values{"name": {RoleViewer}, "password": {viewerPW}}}, 403},
		{"token needs no CSRF", request{method: "POST", path: "/api/v1/responder", bearer: tok}, 200},
		{"token ignores Origin", request{method: "POST", path: "/api/v1/responder", bearer: tok, origin: "https://ci.example"}, 200},
		{"a cookie is not looked at with a token", request{method: "POST", path: "/api/v1/admin", bearer: tok, cookie: id}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, e.do(tc.rq), tc.want, "")
		})
	}
	t.Run("direct cross-origin Login", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "http://vaultwatch.example/login", nil)
		r.Header.Set("Origin", "https://evil.example")
		err := e.svc.Login(httptest.NewRecorder(), r, RoleViewer, viewerPW)
		if !errors.Is(err, ErrCrossOrigin) || LoginStatus(err) != http.StatusForbidden {
			t.Errorf("Login = %v", err)
		}
	})
}

func TestLoginRateLimitHTTP(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	e.secret("not the password")
	post := func(pw string) *http.Response {
		return e.do(request{method: http.MethodPost, path: "/login", origin: e.srv.URL,
			form: url.Values{"name": {RoleViewer}, "password": {pw}}})
	}
	for range 5 {
		check(t, post("not the password"), http.StatusUnauthorized, "")
	}
	resp := post(viewerPW)
	check(t, resp, http.StatusTooManyRequests, "")
	if got := resp.Header.Get("Retry-After"); got != "900" {
		t.Errorf("Retry-After %q, want 900", got)
	}
	if e.sessionCookie(resp) != nil {
		t.Error("a refused login set a cookie")
	}
	e.clock.Advance(15 * time.Minute)
	check(t, post(viewerPW), http.StatusSeeOther, "")
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{time.Millisecond, "1"}, {time.Second, "1"}, {1500 * time.Millisecond, "2"}, {0, "1"}} {
		if got := retryAfter(tc.d); got != tc.want {
			t.Errorf("retryAfter(%v) = %s, want %s", tc.d, got, tc.want)
		}
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	plain, tok := e.token("ci", RoleViewer, "")
	if !strings.HasPrefix(plain, "vwt_"+tok.ID+"_") || len(tok.ID) != 16 || tokenID(plain) != tok.ID {
		t.Errorf("token %q does not read vwt_<id>_<secret> with id %q", plain, tok.ID)
	}
	stored, err := e.st.TokenByHash(ctx, sha256Hex(plain))
	if err != nil || stored.ID != tok.ID || stored.Hash == plain || stored.Role != store.RoleViewer || stored.CreatedBy != "admin" {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	check(t, e.do(request{path: "/api/v1/viewer", bearer: plain}), http.StatusOK, "application/json")

	// A use is recorded, at most once a minute.
	lastUsed := func() time.Time {
		got, err := e.st.TokenByHash(ctx, sha256Hex(plain))
		if err != nil {
			t.Fatal(err)
		}
		return got.LastUsed
	}
	first := e.clock.Now()
	if !lastUsed().Equal(first) {
		t.Errorf("last used %v, want %v", lastUsed(), first)
	}
	e.clock.Advance(30 * time.Second)
	e.do(request{path: "/api/v1/viewer", bearer: plain})
	if !lastUsed().Equal(first) {
		t.Error("use recorded twice within a minute")
	}
	e.clock.Advance(31 * time.Second)
	e.do(request{path: "/api/v1/viewer", bearer: plain})
	if !lastUsed().Equal(e.clock.Now()) {
		t.Error("use after a minute not recorded")
	}

	for _, tc := range []struct{ name, header string }{
		{"unknown", "Bearer vwt_0123456789abcdef_" + randomToken(32)},
		{"another id", "Bearer vwt_0123456789abcdef" + strings.TrimPrefix(plain, "vwt_"+tok.ID)},
		{"malformed", "Bearer nothing"},
		{"too long", "Bearer " + plain + strings.Repeat("x", 200)},
		{"basic", "Basic dXNlcjpwYXNz"},
		{"empty bearer", "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, e.do(request{path: "/api/v1/viewer", header: map[string]string{"Authorization": tc.header}}),
				http.StatusUnauthorized, "application/json")
		})
	}
	if err := e.svc.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	check(t, e.do(request{path: "/api/v1/viewer", bearer: plain}), http.StatusUnauthorized, "application/json")
	if err := e.svc.RevokeToken(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeToken(nope) = %v", err)
	}

	for _, tc := range []struct{ name, role, source string }{
		{"no name", "", ""},
		{"unknown role", "root", ""},
		{"ingest without source", RoleIngest, ""},
		{"viewer with source", RoleViewer, "azure"},
	} {
		name := "x"
		if tc.name == "no name" {
			tc.role, name = RoleViewer, " "
		}
		if _, _, err := e.svc.CreateToken(ctx, name, tc.role, tc.source, "admin"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: CreateToken = %v", tc.name, err)
		}
	}
}

func TestIngestTokens(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	azure, _ := e.token("azure", RoleIngest, "azure")
	vault, _ := e.token("vault", RoleIngest, "vault")
	admin, _ := e.token("admin", RoleAdmin, "")
	session, csrf := e.login(RoleAdmin, adminPW, "")
	for _, tc := range []struct {
		name string
		rq   request
		want int
	}{
		{"its source", request{method: "POST", path: "/ingest/azure", bearer: azure}, 200},
		{"another source", request{method: "POST", path: "/ingest/azure", bearer: vault}, 403},
		{"admin token", request{method: "POST", path: "/ingest/azure", bearer: admin}, 403},
		{"admin session", request{method: "POST", path: "/ingest/azure", cookie: session, csrf: csrf}, 403},
		{"anonymous", request{method: "POST", path: "/ingest/azure"}, 401},
		{"ingest token reads nothing", request{path: "/api/v1/viewer", bearer: azure}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, e.do(tc.rq), tc.want, "application/json")
		})
	}
	t.Run("AuthorizeIngest", func(t *testing.T) {
		for _, tc := range []struct {
			name, header, source string
			ok                   bool
		}{
			{"ingest", "Bearer " + azure, "azure", true},
			{"admin", "Bearer " + admin, "", false},
			{"none", "", "", false},
			{"bad", "Bearer vwt_x", "", false},
		} {
			r := httptest.NewRequest(http.MethodPost, "/ingest/azure", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			if src, ok := e.svc.AuthorizeIngest(r); src != tc.source || ok != tc.ok {
				t.Errorf("%s: AuthorizeIngest = %q, %v", tc.name, src, ok)
			}
		}
		// Behind Middleware the principal is taken from the context.
		r := httptest.NewRequest(http.MethodPost, "/ingest/vault", nil)
		r = r.WithContext(WithPrincipal(r.Context(), Principal{Name: "token:vault", Role: RoleIngest, Token: true, Source: "vault"}))
		if src, ok := e.svc.AuthorizeIngest(r); src != "vault" || !ok {
			t.Errorf("from context: %q, %v", src, ok)
		}
	})
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ next, want string }{
		{"", "/"},
		{"/", "/"},
		{"/alerts?id=3&x=%2F", "/alerts?id=3&x=%2F"},
		{"/alerts#top", "/alerts#top"},
		{"https://evil.example/", "/"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/%2F%2Fevil.example", "/"}, // a path on this site, but a proxy may decode it
		{"javascript:alert(1)", "/"},
		{"alerts", "/"},
		{"/\tevil", "/"},
		{"/\n/evil.example", "/"},
		{" //evil.example", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
	} {
		if got := SafeNext(tc.next); got != tc.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tc.next, got, tc.want)
		}
	}
	// A login form posting an outside next lands on the home page.
	e := newEnv(t, Options{})
	e.users()
	resp := e.do(request{method: http.MethodPost, path: "/login", origin: e.srv.URL,
		form: url.Values{"name": {RoleViewer}, "password": {viewerPW}, "next": {"//evil.example/"}}})
	if c := e.sessionCookie(resp); c != nil {
		e.secret(c.Value)
	}
	check(t, resp, http.StatusSeeOther, "")
	if got := resp.Header.Get("Location"); got != "/" {
		t.Errorf("Location %q, want /", got)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
	}
	id, _ := e.login(RoleViewer, viewerPW, "")
	for _, tc := range []struct {
		name    string
		rq      request
		noStore bool
	}{
		{"anonymous", request{path: "/healthz"}, false},
		{"refused", request{path: "/api/v1/viewer"}, true},
		{"signed in", request{path: "/pages/viewer", cookie: id, html: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(tc.rq)
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if got := resp.Header.Get("Cache-Control") == "no-store"; got != tc.noStore {
				t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
			}
			if resp.Header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS without TLS")
			}
		})
	}
	t.Run("TLS", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "https://vaultwatch.example/", nil)
		r.TLS = &tls.ConnectionState{}
		rec := httptest.NewRecorder()
		SecurityHeaders(http.NotFoundHandler()).ServeHTTP(rec, r)
		if got := rec.Header().Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("HSTS %q", got)
		}
	})
}

func TestRequireUnknownRole(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	Require("root", http.NotFoundHandler())
}

func TestConcurrentRefresh(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	id, _ := e.login(RoleViewer, viewerPW, "")
	for round := range 5 {
		e.clock.Advance(2 * time.Minute) // every round's first request moves the expiry
		codes := make(chan int, 16)
		var wg sync.WaitGroup
		for range cap(codes) {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/viewer", nil)
				req.AddCookie(&http.Cookie{Name: DefaultCookieName, Value: id})
				resp, err := e.http.Do(req)
				if err != nil {
					codes <- 0
					return
				}
				resp.Body.Close()
				codes <- resp.StatusCode
			})
		}
		wg.Wait()
		close(codes)
		for c := range codes {
			if c != http.StatusOK {
				t.Fatalf("round %d: a request during a refresh got %d", round, c)
			}
		}
	}
}

func TestOtherAuthorizationHeaders(t *testing.T) {
	// A proxy in front may add its own credentials: they are ignored, and
	// the session decides (with its CSRF token).
	e := newEnv(t, Options{})
	e.users()
	id, csrf := e.login(RoleViewer, viewerPW, "")
	for _, h := range []string{"Basic dXNlcjpwYXNz", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig"} {
		hdr := map[string]string{"Authorization": h}
		check(t, e.do(request{path: "/api/v1/viewer", cookie: id, header: hdr}), http.StatusOK, "application/json")
		check(t, e.do(request{method: "POST", path: "/api/v1/viewer", cookie: id, header: hdr}), http.StatusForbidden, "application/json")
		check(t, e.do(request{method: "POST", path: "/api/v1/viewer", cookie: id, csrf: csrf, header: hdr}), http.StatusOK, "application/json")
		check(t, e.do(request{path: "/api/v1/viewer", header: hdr}), http.StatusUnauthorized, "application/json")
	}
}

func TestLogsNameNoSecret(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	e.secret("not the password")
	tok, _ := e.token("ci", RoleAdmin, "")
	e.login(RoleViewer, viewerPW, "")
	e.do(request{method: http.MethodPost, path: "/login", origin: e.srv.URL,
		form: url.Values{"name": {RoleAdmin}, "password": {"not the password"}}})
	e.do(request{path: "/api/v1/admin", bearer: tok})
	logs := e.logs.String()
	for _, want := range []string{`msg="login failed" component=auth user=admin ip=127.0.0.1`, `msg=login component=auth user=viewer`, `msg="token created"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	// newEnv's cleanup checks that no password, token, session id or CSRF
	// token appears.
}
