// Package api is vaultwatch's JSON API under /api/v1, its OpenAPI document,
// the health endpoints and the Prometheus metrics: the read and write
// surface over the store that the pages (internal/ui) share.
//
// Routes are a table (see Route): the server mounts each on an
// http.ServeMux with its Go pattern, behind the authentication middleware
// that requires the route's Role. Handlers read the caller from the
// request's context (auth.From); they never authenticate.
//
// Vault ids hold slashes (Azure resource ids): in a path they are one
// segment, URL-escaped ("/api/v1/vaults/%2Fsubscriptions%2F...%2Fvaults%2Fkv-pay/activity").
package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/source"
	"vaultwatch/internal/store"
)

// Deps is what the API and the pages read and write. Store is required;
// every other field may be left zero.
type Deps struct {
	Store store.Store
	// Sources reports the live sources' health; nil when there are none.
	Sources func() []source.Status
	// Baseline returns what detection learned of a vault, and false when it
	// learned nothing (yet); nil when no engine provides baselines.
	Baseline func(vaultID string) (Baseline, bool)
	// Clock is the time of "now" for default ranges and status changes
	// (default time.Now).
	Clock func() time.Time
	// Logger gets the errors answered with 500 (default: discarded).
	Logger *slog.Logger
	// Metrics counts requests and serves /metrics. Give the API and the
	// pages the same one (NewMetrics); nil makes Routes create its own.
	Metrics *Metrics
	// RulesChanged is called after a suppression rule was created or
	// changed, so that detection applies it at once; nil does nothing.
	RulesChanged func()
	// SampleAlerts stores sample alerts of the given types (every type
	// when none) through the server's alert path; nil when the server
	// offers none.
	SampleAlerts func(ctx context.Context, types []alert.Type) ([]alert.Alert, error)
	// Accounts makes users and API tokens (hashing their secrets); nil
	// when the server offers no account management.
	Accounts Accounts
}

// Accounts is what the admin pages need of authentication.
type Accounts interface {
	CreateUser(ctx context.Context, name, role, password string) error
	SetPassword(ctx context.Context, name, password string) error
	CreateToken(ctx context.Context, name, role, source, createdBy string) (string, store.APIToken, error)
	RevokeToken(ctx context.Context, id string) error
}

// Baseline summarises what detection learned of one vault.
type Baseline struct {
	Since    time.Time  `json:"since"` // learning started
	Apps     []Known    `json:"apps"`
	Users    []Known    `json:"users"`
	Networks []KnownNet `json:"networks"`
}

// Known is one application or user known on a vault.
type Known struct {
	Name  string    `json:"name"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	Calls int       `json:"calls"`
}

// KnownNet is one network known on a vault.
type KnownNet struct {
	Prefix string    `json:"prefix"`
	Labels []string  `json:"labels,omitempty"` // "cloud:azure", "private", ...
	First  time.Time `json:"first"`
}

// Route is one endpoint. Pattern is the path part of a Go 1.22 ServeMux
// pattern ("/api/v1/alerts/{id}"), mounted as MuxPattern; Role is the least role the caller
// needs (auth.RoleViewer, RoleResponder, RoleAdmin), "" for anonymous
// routes; Summary is one line for the OpenAPI document and listings.
type Route struct {
	Method, Pattern, Role string
	Handler               http.Handler
	Summary               string
}

// MuxPattern returns the ServeMux pattern of r, method first:
// "GET /api/v1/alerts/{id}".
func (r Route) MuxPattern() string { return r.Method + " " + r.Pattern }

// withDefaults fills the zero fields of d.
func (d Deps) withDefaults() Deps {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Sources == nil {
		d.Sources = func() []source.Status { return nil }
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(d.Sources)
	}
	return d
}

// WithDefaults returns d with its zero optional fields filled in: a Clock,
// a Logger, Sources, Metrics. Routes calls it; the pages share it.
func (d Deps) WithDefaults() Deps { return d.withDefaults() }

// Routes returns the API's routes: the health endpoints (anonymous),
// /metrics (viewer: a Prometheus scraper signs in with an API token) and
// everything under /api/v1. Every handler is instrumented by d.Metrics.
func Routes(d Deps) []Route {
	d = d.withDefaults()
	h := &handlers{d: d}
	rs := []Route{
		{"GET", "/healthz", "", http.HandlerFunc(h.healthz), "Liveness: 200 while the process serves"},
		{"GET", "/readyz", "", http.HandlerFunc(h.readyz), "Readiness: 200 when the store answers, else 503"},
		{"GET", "/metrics", auth.RoleViewer, d.Metrics.Handler(), "Prometheus metrics"},
		{"GET", "/api/v1/openapi.json", auth.RoleViewer, http.HandlerFunc(serveOpenAPI), "This API's OpenAPI 3.1 document"},
		{"GET", "/api/v1/alerts", auth.RoleViewer, http.HandlerFunc(h.alerts), "List alerts, filtered and paged"},
		{"GET", "/api/v1/alerts/{id}", auth.RoleViewer, http.HandlerFunc(h.alert), "One alert with its status, version and history"},
		{"POST", "/api/v1/alerts/{id}/status", auth.RoleResponder, http.HandlerFunc(h.setStatus), "Change an alert's status, with a comment"},
		{"GET", "/api/v1/vaults", auth.RoleViewer, http.HandlerFunc(h.vaults), "Every vault with its totals and open alerts"},
		{"GET", "/api/v1/vaults/{id}", auth.RoleViewer, http.HandlerFunc(h.vault), "One vault (id URL-escaped)"},
		{"GET", "/api/v1/vaults/{id}/activity", auth.RoleViewer, http.HandlerFunc(h.activity), "A vault's operations and denials over time"},
		{"GET", "/api/v1/vaults/{id}/callers", auth.RoleViewer, http.HandlerFunc(h.callers), "A vault's most active callers"},
		{"GET", "/api/v1/vaults/{id}/baseline", auth.RoleViewer, http.HandlerFunc(h.baseline), "What detection learned of a vault"},
		{"GET", "/api/v1/events", auth.RoleViewer, http.HandlerFunc(h.events), "Investigate: indexed events by caller, vault, object and time"},
		{"GET", "/api/v1/events.csv", auth.RoleViewer, http.HandlerFunc(h.eventsCSV), "The same events as CSV, every page"},
		{"GET", "/api/v1/sources", auth.RoleViewer, http.HandlerFunc(h.sources), "The live sources' health"},
		{"GET", "/api/v1/stats/alerts", auth.RoleViewer, http.HandlerFunc(h.alertStats), "Alerts started over time, by severity"},
		{"POST", "/api/v1/alerts/sample", auth.RoleAdmin, http.HandlerFunc(h.sampleAlerts), "Make sample alerts to check notifications and exports"},
		{"GET", "/api/v1/rules", auth.RoleViewer, http.HandlerFunc(h.rules), "Suppression rules, newest first, with their state"},
		{"POST", "/api/v1/rules", auth.RoleResponder, http.HandlerFunc(h.createRule), "Create a suppression rule"},
		{"POST", "/api/v1/rules/simulate", auth.RoleResponder, http.HandlerFunc(h.simulateRule), "Which past alerts a rule would have silenced"},
		{"GET", "/api/v1/rules/{id}", auth.RoleViewer, http.HandlerFunc(h.rule), "One suppression rule (ETag = version)"},
		{"PUT", "/api/v1/rules/{id}", auth.RoleResponder, http.HandlerFunc(h.updateRule), "Edit a suppression rule (If-Match required)"},
		{"POST", "/api/v1/rules/{id}/expire", auth.RoleResponder, http.HandlerFunc(h.expireRule), "End a suppression rule now"},
	}
	for i := range rs {
		rs[i].Handler = d.Metrics.Instrument(rs[i].MuxPattern(), rs[i].Handler)
	}
	return rs
}
