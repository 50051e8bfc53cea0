// Command pages measures the pages and the JSON API over a large store: it
// fills a SQLite store with 10 million events and 100,000 alerts (or
// reuses one it filled before), then times the store calls each page
// makes, the way internal/ui's handlers make them, and the real pages and
// API endpoints over HTTP. The bar is every page under 200 ms.
//
//	go run ./bench/pages                                 # a store in a temporary folder
//	go run ./bench/pages -db /var/tmp/pages.db -keep     # fill once, measure again later
//	go run ./bench/pages -events 1000000 -out /dev/stdout
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/api"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/event"
	"vaultwatch/internal/store"
	"vaultwatch/internal/store/sqlite"
	"vaultwatch/internal/ui"
)

// now is the clock of the measured pages: the fill's events end here.
var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// The organisation the fill simulates.
const (
	vaults     = 20
	principals = 5000
	users      = 3000 // of the principals; the others are applications
	secrets    = 2000
	ips        = 10000
	span       = 30 * 24 * time.Hour
	batchSize  = 5000
)

func main() {
	dbPath := flag.String("db", "", "store file: filled when missing or empty, reused otherwise (default: a temporary one, removed)")
	keep := flag.Bool("keep", false, "keep the temporary store")
	nEvents := flag.Int("events", 10_000_000, "events to fill")
	nAlerts := flag.Int("alerts", 100_000, "alerts to fill")
	requests := flag.Int("requests", 20, "timed requests per page")
	out := flag.String("out", "bench/PAGES.md", "report file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *dbPath, *keep, *nEvents, *nAlerts, *requests, *out); err != nil {
		fmt.Fprintln(os.Stderr, "pages:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, path string, keep bool, nEvents, nAlerts, requests int, out string) error {
	if path == "" {
		dir, err := os.MkdirTemp("", "vaultwatch-bench-pages")
		if err != nil {
			return err
		}
		if keep {
			fmt.Fprintln(os.Stderr, "keeping", dir)
		} else {
			defer os.RemoveAll(dir)
		}
		path = filepath.Join(dir, "pages.db")
	}
	db, err := sqlite.Open(path, sqlite.Options{Retention: 365 * 24 * time.Hour})
	if err != nil {
		return err
	}
	defer db.Close()
	o := newOrg(rand.New(rand.NewPCG(1, 2)))
	vs, err := db.Vaults(ctx)
	if err != nil {
		return err
	}
	var fillLine string
	if len(vs) == 0 {
		if fillLine, err = fill(ctx, db, o, nEvents, nAlerts); err != nil {
			return err
		}
	} else {
		fillLine = fmt.Sprintf("The store was reused from an earlier fill (%d vaults).", len(vs))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# The pages over a large store\n\nWritten by `go run ./bench/pages` on %s (%s, %s/%s, %d CPUs).\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintf(&b, "The store holds %d events (%d vaults, %d principals, %d secrets, %d addresses over 30 days) and %d alerts. %s\n\n",
		nEvents, vaults, principals, secrets, ips, nAlerts, fillLine)
	fmt.Fprintf(&b, "Each row is timed %d times after one untimed run; the bar is 200 ms a page.\n\n", requests)
	if err := measureStore(ctx, &b, db, o, requests); err != nil {
		return err
	}
	if err := measureHTTP(ctx, &b, db, o, requests); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "wrote", out)
	return nil
}

// org is the simulated organisation.
type org struct {
	rnd        *rand.Rand
	vaultIDs   []string
	vaultNames []string
	oids       []string // object id of each principal
	upns       []string // "" for applications
	apps       []string // each principal's client app id
	home       []int    // each principal's usual vault
	homeIP     []netip.Addr
	ipPool     []netip.Addr
	secrets    []string
	alertIDs   []string
}

func newOrg(r *rand.Rand) *org {
	o := &org{rnd: r}
	for i := range vaults {
		name := fmt.Sprintf("kv-%s-%02d", []string{"payments", "identity", "orders", "search", "billing"}[i%5], i)
		o.vaultNames = append(o.vaultNames, name)
		o.vaultIDs = append(o.vaultIDs, fmt.Sprintf("/subscriptions/6a1f3c2e-7b0d-4e55-9a3b-%012d/resourcegroups/rg-prod-%02d/providers/microsoft.keyvault/vaults/%s", i, i, name))
	}
	for i := range ips {
		o.ipPool = append(o.ipPool, netip.AddrFrom4([4]byte{byte(20 + i%180), byte(i / 250), byte(i % 250), byte(1 + i%200)}))
	}
	clientApps := []string{"04b07795-8ddb-461a-bbee-02f9e1bf7b46", "1950a258-227b-4e31-a9cf-717495945fc2", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"}
	for i := range principals {
		o.oids = append(o.oids, fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()&(1<<48-1)))
		if i < users {
			o.upns = append(o.upns, fmt.Sprintf("user%04d@contoso.com", i))
			o.apps = append(o.apps, clientApps[i%len(clientApps)])
		} else {
			o.upns = append(o.upns, "")
			o.apps = append(o.apps, fmt.Sprintf("%08x-0000-4000-8000-%012d", r.Uint32(), i))
		}
		o.home = append(o.home, r.IntN(vaults))
		o.homeIP = append(o.homeIP, o.ipPool[r.IntN(ips)])
	}
	for i := range secrets {
		o.secrets = append(o.secrets, fmt.Sprintf("secret-%s-%04d", []string{"db", "api", "tls", "storage"}[i%4], i))
	}
	return o
}

// busy picks an index in [0, n) with a skew: low indexes are busier.
func (o *org) busy(n int) int {
	f := o.rnd.Float64()
	return int(f * f * float64(n))
}

// event makes the i-th of n events.
func (o *org) event(i, n int) event.Event {
	t := now.Add(-span).Add(time.Duration(int64(span) / int64(n) * int64(i)))
	p := o.busy(principals)
	v := o.home[p]
	if o.rnd.IntN(10) == 0 {
		v = o.rnd.IntN(vaults)
	}
	ip := o.homeIP[p]
	if o.rnd.IntN(5) == 0 {
		ip = o.ipPool[o.rnd.IntN(ips)]
	}
	op, class := "SecretGet", event.ClassRead
	switch k := o.rnd.IntN(20); {
	case k == 0:
		op, class = "SecretList", event.ClassList
	case k == 1:
		op, class = "SecretSet", event.ClassWrite
	}
	res := event.Result{Outcome: event.OutcomeSuccess, Status: 200}
	if o.rnd.IntN(33) == 0 {
		res = event.Result{Outcome: event.OutcomeDenied, Status: 403, Reason: "Forbidden"}
	}
	e := event.Event{
		Time: t, Provider: event.ProviderAzureKeyVault, Format: event.FormatAzureKeyVault,
		Vault:     event.Vault{ID: o.vaultIDs[v], Name: o.vaultNames[v]},
		Operation: event.Operation{Name: op, Class: class},
		Object:    event.Object{Kind: event.KindSecret, Name: o.secrets[o.busy(secrets)], Version: fmt.Sprintf("%032x", o.rnd.Uint64())},
		Caller: event.Caller{Type: event.IdentityServicePrincipal, ObjectID: o.oids[p], AppID: o.apps[p],
			TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47"},
		IP:            ip,
		UserAgent:     "azsdk-net-Security.KeyVault.Secrets/4.5.0 (.NET 8.0.1; Microsoft Windows 10.0.20348)",
		CorrelationID: fmt.Sprintf("%08x-b866-4950-983f-%012x", o.rnd.Uint32(), o.rnd.Uint64()&(1<<48-1)),
		Result:        res,
		Source:        event.Location{Source: "azure-eventhub", Offset: int64(i)},
	}
	if o.upns[p] != "" {
		e.Caller.Type, e.Caller.UPN = event.IdentityUser, o.upns[p]
	}
	if class == event.ClassList {
		e.Object = event.Object{}
	}
	return e
}

// alert makes the i-th of n alerts.
func (o *org) alert(i, n int) *alert.Alert {
	types := api.AlertTypes()
	sevs := []alert.Severity{alert.SeverityLow, alert.SeverityMedium, alert.SeverityHigh}
	start := now.Add(-span).Add(time.Duration(int64(span) / int64(n) * int64(i)))
	p := o.busy(principals)
	v := o.home[p]
	a := &alert.Alert{
		ID: fmt.Sprintf("a%07d", i), Type: alert.Type(types[o.rnd.IntN(len(types))]), Severity: sevs[o.rnd.IntN(len(sevs))],
		Tactics: []string{"Credential Access"}, StartTime: start, EndTime: start.Add(time.Duration(o.rnd.IntN(3600)) * time.Second),
		Vault:       alert.Vault{Provider: string(event.ProviderAzureKeyVault), ID: o.vaultIDs[v], Name: o.vaultNames[v]},
		Entities:    alert.Entities{IPs: []alert.IP{{Address: o.homeIP[p].String(), Classification: []string{"public"}}}, ObjectIDs: []string{o.oids[p]}, AppIDs: []string{o.apps[p]}},
		Evidence:    alert.Evidence{Operations: map[string]int{"SecretGet": 1 + o.rnd.IntN(50)}},
		Explanation: "A caller read secrets of a vault it never used, from an address new to it.",
		Count:       1 + o.rnd.IntN(50),
	}
	a.Title = string(a.Type) + " on " + a.Vault.Name
	if o.upns[p] != "" {
		a.Entities.UPNs = []string{o.upns[p]}
	}
	o.alertIDs = append(o.alertIDs, a.ID)
	return a
}

// fill commits the events and alerts, and returns a line on how long it
// took.
func fill(ctx context.Context, db *sqlite.DB, o *org, nEvents, nAlerts int) (string, error) {
	start := time.Now()
	last := start
	es := make([]event.Event, 0, batchSize)
	for i := 0; i < nEvents; i += batchSize {
		es = es[:0]
		for j := i; j < min(i+batchSize, nEvents); j++ {
			es = append(es, o.event(j, nEvents))
		}
		if err := db.Commit(ctx, &store.Batch{Events: es,
			Cursors: []store.Cursor{{Source: "azure-eventhub", Key: "0", Value: fmt.Sprint(i + len(es))}}}); err != nil {
			return "", fmt.Errorf("fill: %w", err)
		}
		if time.Since(last) > 10*time.Second {
			last = time.Now()
			d := time.Since(start)
			fmt.Fprintf(os.Stderr, "events: %d of %d in %s (%.0f/s)\n", i+len(es), nEvents, d.Round(time.Second), float64(i+len(es))/d.Seconds())
		}
	}
	evDur := time.Since(start)
	fmt.Fprintf(os.Stderr, "events: %d in %s\n", nEvents, evDur.Round(time.Second))
	as := make([]*alert.Alert, 0, 1000)
	for i := 0; i < nAlerts; i += cap(as) {
		as = as[:0]
		for j := i; j < min(i+cap(as), nAlerts); j++ {
			as = append(as, o.alert(j, nAlerts))
		}
		if err := db.Commit(ctx, &store.Batch{Alerts: as, Now: as[len(as)-1].EndTime}); err != nil {
			return "", fmt.Errorf("fill alerts: %w", err)
		}
	}
	// Most old alerts were handled: resolve or dismiss one in 50, and have
	// the newest tenth partly in progress.
	for i, id := range o.alertIDs {
		var st store.Status
		switch {
		case i%50 == 0:
			st = store.StatusResolved
		case i%50 == 1:
			st = store.StatusDismissed
		case i > len(o.alertIDs)*9/10 && i%7 == 0:
			st = store.StatusInProgress
		default:
			continue
		}
		if _, err := db.SetStatus(ctx, id, store.StatusChange{Status: st, By: "ann", At: now}, 0); err != nil {
			return "", fmt.Errorf("fill statuses: %w", err)
		}
	}
	total := time.Since(start)
	fmt.Fprintf(os.Stderr, "alerts: %d in %s\n", nAlerts, (total - evDur).Round(time.Second))
	return fmt.Sprintf("Filling it took %s: the events in batches of %d in %s (%.0f events/s), the alerts and their statuses in %s.",
		total.Round(time.Second), batchSize, evDur.Round(time.Second), float64(nEvents)/evDur.Seconds(), (total - evDur).Round(time.Second)), nil
}

// timing is the result of timing one thing.
type timing struct{ p50, p99, max time.Duration }

func timeIt(ctx context.Context, n int, f func(context.Context) error) (timing, error) {
	if err := f(ctx); err != nil { // the untimed run
		return timing{}, err
	}
	ds := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if err := f(ctx); err != nil {
			return timing{}, err
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return timing{at(0.5), at(0.99), ds[len(ds)-1]}, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func verdict(t timing) string {
	if t.p99 < 200*time.Millisecond {
		return "yes"
	}
	return "**no**"
}

// measureStore times the store calls of each page as the handlers of
// internal/ui make them, with the pages' default parameters.
func measureStore(ctx context.Context, b *strings.Builder, s store.Store, o *org, n int) error {
	vault := o.vaultIDs[o.home[0]]
	busyAlert := o.alertIDs[len(o.alertIDs)-1]
	vaultPage := func(span time.Duration) func(context.Context) error {
		return func(ctx context.Context) error {
			if _, err := api.FindVault(ctx, s, vault); err != nil {
				return err
			}
			bucket := api.AutoBucket(span, 48)
			to := now.Truncate(bucket).Add(bucket)
			from := to.Add(-span)
			if _, err := s.Activity(ctx, vault, from, to, bucket); err != nil {
				return err
			}
			if _, err := s.Alerts(ctx, store.AlertQuery{Vault: vault, Limit: 50}); err != nil {
				return err
			}
			_, err := s.TopCallers(ctx, vault, from, to, 15)
			return err
		}
	}
	events := func(q store.EventQuery) func(context.Context) error {
		return func(ctx context.Context) error {
			p, err := s.Events(ctx, q)
			if err == nil && len(p.Events) == 0 {
				err = fmt.Errorf("events %+v: nothing found", q)
			}
			return err
		}
	}
	alerts := func(q store.AlertQuery) func(context.Context) error {
		return func(ctx context.Context) error {
			if _, err := s.Vaults(ctx); err != nil {
				return err
			}
			_, err := s.Alerts(ctx, q)
			return err
		}
	}
	rows := []struct {
		page, calls string
		f           func(context.Context) error
	}{
		{"overview", "AlertCounts (7 days by 6 h), Alerts (active, 25), Alerts (in progress, 25), Vaults", func(ctx context.Context) error {
			bucket := 6 * time.Hour
			to := now.Truncate(bucket).Add(bucket)
			if _, err := s.AlertCounts(ctx, to.Add(-7*24*time.Hour), to, bucket); err != nil {
				return err
			}
			for _, st := range []store.Status{store.StatusActive, store.StatusInProgress} {
				if _, err := s.Alerts(ctx, store.AlertQuery{Status: st, Limit: 25}); err != nil {
					return err
				}
			}
			_, err := s.Vaults(ctx)
			return err
		}},
		{"alerts", "Vaults, Alerts (50)", alerts(store.AlertQuery{Limit: 50})},
		{"alerts, page 100", "Vaults, Alerts (50, offset 4950)", alerts(store.AlertQuery{Limit: 50, Offset: 4950})},
		{"alerts by vault", "Vaults, Alerts (vault, 50)", alerts(store.AlertQuery{Vault: vault, Limit: 50})},
		{"alerts by severity and status", "Vaults, Alerts (high, active, 50)", alerts(store.AlertQuery{Severity: alert.SeverityHigh, Status: store.StatusActive, Limit: 50})},
		{"alerts by entity", "Vaults, Alerts (an address, 50)", alerts(store.AlertQuery{Entity: o.homeIP[0].String(), Limit: 50})},
		{"alerts by time", "Vaults, Alerts (last 24 h, 50)", alerts(store.AlertQuery{From: now.Add(-24 * time.Hour), To: now, Limit: 50})},
		{"alert", "Alert, History", func(ctx context.Context) error {
			_, err := api.LoadAlert(ctx, s, busyAlert)
			return err
		}},
		{"vault (24h)", "Vaults, Activity (48 × 30 min), Alerts (vault, 50), TopCallers (15)", vaultPage(24 * time.Hour)},
		{"vault (7d)", "Vaults, Activity (42 × 4 h), Alerts (vault, 50), TopCallers (15)", vaultPage(7 * 24 * time.Hour)},
		{"vault (30d)", "Vaults, Activity (30 × 1 d), Alerts (vault, 50), TopCallers (15)", vaultPage(30 * 24 * time.Hour)},
		{"investigate: busiest principal", "Events (principal, 100)", events(store.EventQuery{Principal: o.oids[0], Limit: 100})},
		{"investigate: quiet principal", "Events (principal, 100)", events(store.EventQuery{Principal: o.oids[principals-1], Limit: 100})},
		{"investigate: object id, last day", "Events (object id, from, 100)", events(store.EventQuery{ObjectID: o.oids[10], From: now.Add(-24 * time.Hour), Limit: 100})},
		{"investigate: upn", "Events (upn, 100)", events(store.EventQuery{UPN: o.upns[1], Limit: 100})},
		{"investigate: address", "Events (ip, 100)", events(store.EventQuery{IP: o.homeIP[2].String(), Limit: 100})},
		{"investigate: app id", "Events (app id, 100)", events(store.EventQuery{AppID: o.apps[users+1], Limit: 100})},
		{"investigate: vault", "Events (vault, 100)", events(store.EventQuery{Vault: vault, Limit: 100})},
		{"investigate: secret", "Events (object, 100)", events(store.EventQuery{Object: o.secrets[secrets-1], Limit: 100})},
		{"investigate: principal on a vault, a week ago", "Events (principal, vault, from, to, 100)", events(store.EventQuery{
			Principal: o.oids[3], Vault: o.vaultIDs[o.home[3]], From: now.Add(-8 * 24 * time.Hour), To: now.Add(-7 * 24 * time.Hour), Limit: 100})},
	}
	b.WriteString("## Store calls per page\n\nThe calls internal/ui's handler of each page makes, with its default parameters (the vault is the busiest principal's).\n\n")
	b.WriteString("| page | store calls | p50 | p99 | under 200 ms |\n|---|---|---:|---:|---|\n")
	for _, r := range rows {
		t, err := timeIt(ctx, n, r.f)
		if err != nil {
			return fmt.Errorf("%s: %w", r.page, err)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", r.page, r.calls, ms(t.p50), ms(t.p99), verdict(t))
		fmt.Fprintf(os.Stderr, "store %-45s p50 %8s p99 %8s\n", r.page, ms(t.p50), ms(t.p99))
	}
	b.WriteString("\n")
	return nil
}

// measureHTTP times the real pages and API endpoints, signed in as an
// administrator.
func measureHTTP(ctx context.Context, b *strings.Builder, s store.Store, o *org, n int) error {
	deps := api.Deps{Store: s, Clock: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	deps.Metrics = api.NewMetrics(nil)
	mux := http.NewServeMux()
	for _, r := range append(api.Routes(deps), ui.Routes(deps)...) {
		h := r.Handler
		mux.Handle(r.MuxPattern(), http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			h.ServeHTTP(w, req.WithContext(auth.WithPrincipal(req.Context(), auth.Principal{Name: "bench", Role: auth.RoleAdmin})))
		}))
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	vault := o.vaultIDs[o.home[0]]
	pages := []struct{ name, path string }{
		{"overview", "/"},
		{"alerts", "/alerts"},
		{"alerts, page 100", "/alerts?offset=4950"},
		{"alerts by vault", "/alerts?vault=" + url.QueryEscape(vault)},
		{"alerts by severity and status", "/alerts?severity=high&status=active"},
		{"alerts by entity", "/alerts?entity=" + url.QueryEscape(o.homeIP[0].String())},
		{"alert", "/alerts/" + url.PathEscape(o.alertIDs[len(o.alertIDs)-1])},
		{"vault (24h)", "/vaults/" + url.PathEscape(vault)},
		{"vault (7d)", "/vaults/" + url.PathEscape(vault) + "?range=7d"},
		{"vault (30d)", "/vaults/" + url.PathEscape(vault) + "?range=30d"},
		{"investigate: busiest principal", "/investigate?principal=" + url.QueryEscape(o.oids[0])},
		{"investigate: quiet principal", "/investigate?principal=" + url.QueryEscape(o.oids[principals-1])},
		{"investigate: upn", "/investigate?upn=" + url.QueryEscape(o.upns[1])},
		{"investigate: address", "/investigate?ip=" + url.QueryEscape(o.homeIP[2].String())},
		{"investigate: secret", "/investigate?object=" + url.QueryEscape(o.secrets[secrets-1])},
		{"API: alerts", "/api/v1/alerts"},
		{"API: vaults", "/api/v1/vaults"},
		{"API: vault activity", "/api/v1/vaults/" + url.PathEscape(vault) + "/activity"},
		{"API: vault callers", "/api/v1/vaults/" + url.PathEscape(vault) + "/callers"},
		{"API: events", "/api/v1/events?principal=" + url.QueryEscape(o.oids[0])},
		{"API: alert stats", "/api/v1/stats/alerts"},
	}
	b.WriteString("## Pages over HTTP\n\nThe real handlers (`ui.Routes`, `api.Routes`) on a local HTTP server, signed in as an administrator; time to the last byte of the answer.\n\n")
	b.WriteString("| page | path | p50 | p99 | under 200 ms |\n|---|---|---:|---:|---|\n")
	for _, p := range pages {
		t, err := timeIt(ctx, n, func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+p.path, nil)
			if err != nil {
				return err
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				return err
			}
			if res.StatusCode != http.StatusOK {
				return errors.New(res.Status + ": " + string(body[:min(len(body), 300)]))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s (%s): %w", p.name, p.path, err)
		}
		shown := p.path
		if len(shown) > 60 {
			shown = shown[:57] + "..."
		}
		fmt.Fprintf(b, "| %s | `%s` | %s | %s | %s |\n", p.name, shown, ms(t.p50), ms(t.p99), verdict(t))
		fmt.Fprintf(os.Stderr, "http  %-45s p50 %8s p99 %8s\n", p.name, ms(t.p50), ms(t.p99))
	}
	return nil
}
