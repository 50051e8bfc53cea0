package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vaultwatch/internal/store"
	"vaultwatch/internal/store/sqlite"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects a logger's output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a Service over a real SQLite store in a temporary folder, behind
// a real HTTP server on 127.0.0.1. Every secret the test makes is recorded
// with secret(), and the logs are checked for them at the end.
type env struct {
	t     *testing.T
	svc   *Service
	st    store.Store
	clock *clock
	logs  *logBuffer
	srv   *httptest.Server
	http  *http.Client

	mu      sync.Mutex
	secrets []string
}

const (
	viewerPW    = "viewer password 1"
	responderPW = "responder password 2"
	adminPW     = "admin password 3!"
)

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "vaultwatch.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, clock: newClock(), logs: &logBuffer{}}
	opts.Clock = e.clock.Now
	opts.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.svc = New(st, opts)
	e.srv = httptest.NewServer(SecurityHeaders(e.svc.Middleware(e.routes())))
	t.Cleanup(e.srv.Close)
	e.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(func() {
		logs := e.logs.String()
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, s := range e.secrets {
			if s != "" && strings.Contains(logs, s) {
				t.Errorf("a secret (%.6s...) appears in the logs:\n%s", s, logs)
			}
		}
	})
	return e
}

// secret records values that must never be logged.
func (e *env) secret(s ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets = append(e.secrets, s...)
}

// users creates a viewer, a responder and an admin, named after their roles.
func (e *env) users() {
	e.t.Helper()
	for _, u := range []struct{ name, pw string }{{RoleViewer, viewerPW}, {RoleResponder, responderPW}, {RoleAdmin, adminPW}} {
		e.secret(u.pw)
		if err := e.svc.CreateUser(context.Background(), u.name, u.name, u.pw); err != nil {
			e.t.Fatalf("create user %s: %v", u.name, err)
		}
	}
}

// routes: for each role a JSON route under /api/v1/ and a page, both for
// GET and POST; /healthz for everyone; /login and /logout; /whoami
// reports the principal; /ingest/azure for azure's ingest tokens.
func (e *env) routes() http.Handler {
	mux := http.NewServeMux()
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := From(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p)
	})
	for _, role := range []string{RoleViewer, RoleResponder, RoleAdmin} {
		mux.Handle("/api/v1/"+role, Require(role, who))
		mux.Handle("/pages/"+role, Require(role, who))
	}
	mux.Handle("/healthz", Require("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })))
	mux.Handle("/whoami", Require(RoleViewer, who))
	mux.Handle("/ingest/azure", RequireIngest("azure", who))
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := e.svc.Login(w, r, r.PostFormValue("name"), r.PostFormValue("password")); err != nil {
			http.Error(w, "login failed", LoginStatus(err))
			return
		}
		http.Redirect(w, r, SafeNext(r.PostFormValue("next")), http.StatusSeeOther)
	})
	mux.Handle("POST /logout", Require(RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := e.svc.Logout(w, r); err != nil {
			http.Error(w, "logout failed", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, LoginPath, http.StatusSeeOther)
	})))
	return mux
}

// request describes one HTTP request to the test server.
type request struct {
	method, path string
	cookie       string // session id
	bearer       string // API token
	csrf         string // X-CSRF-Token header
	form         url.Values
	origin       string // Origin header; "" for none
	html         bool   // Accept: text/html
	header       map[string]string
}

func (e *env) do(rq request) *http.Response {
	e.t.Helper()
	if rq.method == "" {
		rq.method = http.MethodGet
	}
	var body io.Reader
	if rq.form != nil {
		body = strings.NewReader(rq.form.Encode())
	}
	req, err := http.NewRequest(rq.method, e.srv.URL+rq.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if rq.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if rq.cookie != "" {
		req.AddCookie(&http.Cookie{Name: e.svc.opts.CookieName, Value: rq.cookie})
	}
	if rq.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+rq.bearer)
	}
	if rq.csrf != "" {
		req.Header.Set("X-CSRF-Token", rq.csrf)
	}
	if rq.origin != "" {
		req.Header.Set("Origin", rq.origin)
	}
	if rq.html {
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// sessionCookie returns the session cookie a response sets, nil if none.
func (e *env) sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == e.svc.opts.CookieName {
			return c
		}
	}
	return nil
}

// login signs name in through the login form and returns the session id
// and its CSRF token.
func (e *env) login(name, password string, old string) (id, csrf string) {
	e.t.Helper()
	resp := e.do(request{method: http.MethodPost, path: "/login", cookie: old, origin: e.srv.URL,
		form: url.Values{"name": {name}, "password": {password}}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: status %d", name, resp.StatusCode)
	}
	c := e.sessionCookie(resp)
	if c == nil || c.Value == "" {
		e.t.Fatalf("login %s: no session cookie", name)
	}
	p := e.whoami(c.Value)
	if p == nil || p.Name != name {
		e.t.Fatalf("login %s: session is %+v", name, p)
	}
	e.secret(c.Value, p.CSRF)
	return c.Value, p.CSRF
}

// whoami returns the principal of a session, nil when anonymous.
func (e *env) whoami(id string) *Principal {
	e.t.Helper()
	resp := e.do(request{path: "/whoami", cookie: id})
	if resp.StatusCode == http.StatusUnauthorized {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("whoami: status %d", resp.StatusCode)
	}
	var p Principal
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		e.t.Fatalf("whoami: %v", err)
	}
	return &p
}

// token makes an API token and records it as a secret.
func (e *env) token(name, role, source string) (string, store.APIToken) {
	e.t.Helper()
	plain, tok, err := e.svc.CreateToken(context.Background(), name, role, source, "admin")
	if err != nil {
		e.t.Fatalf("create token %s: %v", name, err)
	}
	e.secret(plain, strings.TrimPrefix(plain, TokenPrefix+tok.ID+"_"))
	return plain, tok
}
