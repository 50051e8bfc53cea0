// Package ui is vaultwatch's Security pages: the overview, the alert list
// and each alert with its response steps, each vault, and the
// investigation of a caller's operations. Pages are rendered on the
// server from embedded templates and one style sheet; charts are inline
// SVG, each with its table. There is no inline script: a small static
// script adds "copy" buttons to commands, and every page works without it.
//
// The pages read and write through the same code as the JSON API
// (internal/api) and are mounted the same way, from a route table behind
// the authentication middleware, which also checks the anti-forgery token
// every form carries (field "csrf").
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/api"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/store"
	"vaultwatch/internal/suppress"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the templates, each rendered inside templates/base.html.
var pageNames = []string{"overview", "alerts", "alert", "vault", "investigate", "login", "error", "rules", "rule", "admin"}

// pages holds the parsed templates; parsed once, never changed.
var pages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range pageNames {
		m[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS,
			"templates/base.html", "templates/"+name+".html"))
	}
	return m
}()

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"when":        when,
	"vaultURL":    vaultURL,
	"alertURL":    alertURL,
	"investigate": investigateURL,
	"join":        strings.Join,
	"sorted":      sortedCounts,
	"csvURL":      func(q url.Values) string { return "/api/v1/events.csv?" + q.Encode() },
	"pageURL":     pageURL,
	"sub":         func(a, b float64) float64 { return a - b },
	"add":         func(a, b int) int { return a + b },
	"label":       statusLabel,
	"who":         who,
	"ruleText":    suppress.Describe,
}

// who names an alert's caller for a list: a person's UPN, a display name,
// else its most specific principal or address.
func who(a alert.Alert) string {
	e := &a.Entities
	for _, l := range [][]string{e.UPNs, e.Principals, e.DisplayNames} {
		if len(l) > 0 {
			return l[0]
		}
	}
	return a.FirstEntity()
}

// when formats a time for the pages, UTC to the second; "never" when
// zero.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// vaultURL links a vault's page; the id is one escaped path segment.
func vaultURL(id string) string { return "/vaults/" + url.PathEscape(id) }

// alertURL links an alert's page.
func alertURL(id string) string { return "/alerts/" + url.PathEscape(id) }

// investigateURL links the investigation of one entity (ip, object_id,
// upn, app_id, principal) from a week before from, the window of the
// response playbook's third step.
func investigateURL(kind, value string, from time.Time) string {
	q := url.Values{kind: {value}}
	if !from.IsZero() {
		q.Set("from", from.Add(-7*24*time.Hour).UTC().Format(time.RFC3339))
	}
	return "/investigate?" + q.Encode()
}

// pageURL returns path with q and one parameter changed.
func pageURL(path string, q url.Values, key, value string) string {
	c := maps.Clone(q)
	if c == nil {
		c = url.Values{}
	}
	c.Set(key, value)
	return path + "?" + c.Encode()
}

// statusLabel names an alert status for people.
func statusLabel(s store.Status) string {
	if s == store.StatusInProgress {
		return "in progress"
	}
	return string(s)
}

// count is one name with a number.
type count struct {
	Name string
	N    int
}

// sortedCounts lists a map by count, most first, then by name.
func sortedCounts(m map[string]int) []count {
	out := make([]count, 0, len(m))
	for k, v := range m {
		out = append(out, count{k, v})
	}
	slices.SortFunc(out, func(a, b count) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// view is what every page's template gets.
type view struct {
	Title string
	Nav   string // the current section: overview, alerts, investigate
	User  auth.Principal
	// SignedIn is false on the login page.
	SignedIn   bool
	CanRespond bool
	IsAdmin    bool
	Data       any
}

// render writes a page with status code; a template error is a 500 and
// a log line, never half a page.
func render(w http.ResponseWriter, r *http.Request, log *slog.Logger, code int, name string, v view) {
	if p, ok := auth.From(r.Context()); ok {
		v.User, v.SignedIn = p, p.Name != ""
		v.CanRespond = auth.Allows(p.Role, auth.RoleResponder)
		v.IsAdmin = auth.Allows(p.Role, auth.RoleAdmin)
	}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		if log != nil {
			log.Error("render page", "component", "ui", "page", name, "err", err)
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

// loginData is the login page's.
type loginData struct {
	Error string
	Next  string
}

// LoginPage renders the sign-in form, posting user name and password (and
// "next", the page to return to, when the request's next parameter is a
// local path) to POST /login. A non-empty errMsg is shown above the form
// and the status is 401; otherwise 200.
func LoginPage(w http.ResponseWriter, r *http.Request, errMsg string) {
	code := http.StatusOK
	if errMsg != "" {
		code = http.StatusUnauthorized
	}
	next := auth.SafeNext(r.URL.Query().Get("next"))
	if next == "/" {
		next = ""
	}
	render(w, r, nil, code, "login", view{Title: "Sign in", Data: loginData{Error: errMsg, Next: next}})
}

// Routes returns the pages' routes: viewer for reading, responder for
// changing an alert's status, anonymous for the static files (the login
// page needs its style sheet).
func Routes(d api.Deps) []api.Route {
	d = d.WithDefaults()
	p := &handlers{d: d}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(fmt.Sprintf("ui: embedded static files: %v", err)) // cannot happen: the folder is embedded
	}
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	rs := []api.Route{
		{Method: "GET", Pattern: "/{$}", Role: auth.RoleViewer, Handler: http.HandlerFunc(p.overview), Summary: "Overview: alerts over time, open alerts, vaults, sources"},
		{Method: "GET", Pattern: "/alerts", Role: auth.RoleViewer, Handler: http.HandlerFunc(p.alerts), Summary: "Alerts, filtered and paged"},
		{Method: "GET", Pattern: "/alerts/{id}", Role: auth.RoleViewer, Handler: http.HandlerFunc(p.alert), Summary: "One alert: evidence, explanation, response, history"},
		{Method: "POST", Pattern: "/alerts/{id}/status", Role: auth.RoleResponder, Handler: http.HandlerFunc(p.setStatus), Summary: "Change an alert's status (form)"},
		{Method: "GET", Pattern: "/vaults/{id...}", Role: auth.RoleViewer, Handler: http.HandlerFunc(p.vault), Summary: "One vault: alerts, activity, callers, baseline"},
		{Method: "GET", Pattern: "/investigate", Role: auth.RoleViewer, Handler: http.HandlerFunc(p.investigate), Summary: "Every operation of a caller over a time range"},
		{Method: "POST", Pattern: "/alerts/sample", Role: auth.RoleAdmin, Handler: http.HandlerFunc(p.sampleAlerts), Summary: "Make sample alerts (form)"},
		{Method: "GET", Pattern: "/rules", Role: auth.RoleViewer, Handler: http.HandlerFunc(p.rules), Summary: "Suppression rules"},
		{Method: "GET", Pattern: "/rules/new", Role: auth.RoleResponder, Handler: http.HandlerFunc(p.newRule), Summary: "A new suppression rule, from an alert when named"},
		{Method: "POST", Pattern: "/rules", Role: auth.RoleResponder, Handler: http.HandlerFunc(p.saveRule), Summary: "Create or simulate a suppression rule (form)"},
		{Method: "GET", Pattern: "/rules/{id}", Role: auth.RoleViewer, Handler: http.HandlerFunc(p.editRule), Summary: "One suppression rule"},
		{Method: "POST", Pattern: "/rules/{id}", Role: auth.RoleResponder, Handler: http.HandlerFunc(p.saveRule), Summary: "Edit or simulate a suppression rule (form)"},
		{Method: "POST", Pattern: "/rules/{id}/expire", Role: auth.RoleResponder, Handler: http.HandlerFunc(p.expireRule), Summary: "End a suppression rule now (form)"},
		{Method: "GET", Pattern: "/admin", Role: auth.RoleAdmin, Handler: http.HandlerFunc(p.admin), Summary: "Users and API tokens"},
		{Method: "POST", Pattern: "/admin/users", Role: auth.RoleAdmin, Handler: http.HandlerFunc(p.addUser), Summary: "Add a user (form)"},
		{Method: "POST", Pattern: "/admin/users/{name}/password", Role: auth.RoleAdmin, Handler: http.HandlerFunc(p.setPassword), Summary: "Set a user's password (form)"},
		{Method: "POST", Pattern: "/admin/users/{name}/disabled", Role: auth.RoleAdmin, Handler: http.HandlerFunc(p.setDisabled), Summary: "Disable or enable a user (form)"},
		{Method: "POST", Pattern: "/admin/tokens", Role: auth.RoleAdmin, Handler: http.HandlerFunc(p.addToken), Summary: "Make an API token, shown once (form)"},
		{Method: "POST", Pattern: "/admin/tokens/{id}/revoke", Role: auth.RoleAdmin, Handler: http.HandlerFunc(p.revokeToken), Summary: "Revoke an API token (form)"},
		{Method: "GET", Pattern: "/static/", Role: "", Handler: cacheStatic(files), Summary: "Style sheet and script"},
	}
	for i := range rs {
		rs[i].Handler = d.Metrics.Instrument(rs[i].MuxPattern(), rs[i].Handler)
	}
	return rs
}

// cacheStatic lets browsers keep the static files for an hour.
func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}
