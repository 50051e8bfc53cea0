package ui

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/api"
	"vaultwatch/internal/event"
	"vaultwatch/internal/source"
	"vaultwatch/internal/store"
)

// handlers serve the pages.
type handlers struct {
	d api.Deps
}

// errorData is the error page's.
type errorData struct {
	Code    int
	Message string
}

// fail renders the error page for a store error: the client's mistakes
// with their text, the server's as a generic message and a log line.
func (h *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := api.StoreErrorStatus(err)
	msg := err.Error()
	if code >= 500 || code == 499 {
		h.d.Logger.Error("page failed", "component", "ui", "path", r.URL.Path, "err", err)
		code, msg = http.StatusInternalServerError, "Something went wrong on the server; its log has the details."
	}
	h.problem(w, r, code, msg)
}

// problem renders the error page with a message.
func (h *handlers) problem(w http.ResponseWriter, r *http.Request, code int, msg string) {
	render(w, r, h.d.Logger, code, "error", view{Title: http.StatusText(code), Data: errorData{Code: code, Message: msg}})
}

// overviewData is the overview's.
type overviewData struct {
	Chart      barChart
	Open       []store.AlertRecord
	OpenTotal  int
	Vaults     []vaultRow
	Sources    []source.Status
	Now        time.Time
	ChartRange string
}

// vaultRow is a vault with its status for people.
type vaultRow struct {
	store.VaultSummary
	Status, Class string
}

// vaultStatus names a vault's state by its open alerts.
func vaultStatus(v store.VaultSummary) (string, string) {
	for _, s := range []alert.Severity{alert.SeverityHigh, alert.SeverityMedium, alert.SeverityLow} {
		if n := v.OpenAlerts[s]; n > 0 {
			return fmt.Sprintf("%d open %s", n, s), "sev-" + string(s)
		}
	}
	return "no open alerts", "ok"
}

// openAlertsShown bounds the open alerts the overview lists.
const openAlertsShown = 25

func (h *handlers) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := h.d.Clock().UTC()
	bucket := 6 * time.Hour
	to := now.Truncate(bucket).Add(bucket)
	from := to.Add(-7 * 24 * time.Hour)
	pts, err := h.d.Store.AlertCounts(ctx, from, to, bucket)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data := overviewData{Chart: alertChart(pts, bucket), Sources: h.d.Sources(), Now: now, ChartRange: "the last 7 days"}
	for _, st := range []store.Status{store.StatusActive, store.StatusInProgress} {
		page, err := h.d.Store.Alerts(ctx, store.AlertQuery{Status: st, Limit: openAlertsShown})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		data.Open = append(data.Open, page.Alerts...)
		data.OpenTotal += page.Total
	}
	slices.SortStableFunc(data.Open, func(a, b store.AlertRecord) int {
		return cmp.Or(b.Alert.StartTime.Compare(a.Alert.StartTime), strings.Compare(b.Alert.ID, a.Alert.ID))
	})
	data.Open = data.Open[:min(len(data.Open), openAlertsShown)]
	vs, err := h.d.Store.Vaults(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, v := range vs {
		st, class := vaultStatus(v)
		data.Vaults = append(data.Vaults, vaultRow{v, st, class})
	}
	render(w, r, h.d.Logger, http.StatusOK, "overview", view{Title: "Overview", Nav: "overview", Data: data})
}

// alertsData is the alert list's.
type alertsData struct {
	Form       url.Values
	Problems   []string
	Page       store.AlertPage
	Vaults     []store.VaultSummary
	Types      []string
	Severities []string
	Statuses   []string
	Offset     int
	Limit      int
	Prev, Next string
	Shown      int
	Notice     string
}

// alertsPage is the list's page size.
const alertsPage = 50

func (h *handlers) alerts(w http.ResponseWriter, r *http.Request) {
	form := r.URL.Query()
	data := alertsData{Form: form, Types: api.AlertTypes(), Severities: api.Severities, Statuses: api.Statuses(), Limit: alertsPage}
	if form.Get("notice") == "samples" {
		data.Notice = "Sample alerts were made and sent like real ones to every notification and export; they are marked [SAMPLE] and sit on the vault kv-vaultwatch-sample."
	}
	var problems []string
	aq := store.AlertQuery{
		Vault: form.Get("vault"), Entity: strings.TrimSpace(form.Get("entity")), Limit: alertsPage,
		Type: alert.Type(form.Get("type")), Severity: alert.Severity(form.Get("severity")), Status: store.Status(form.Get("status")),
	}
	check := func(name, v string, valid []string) {
		if v != "" && !slices.Contains(valid, v) {
			problems = append(problems, fmt.Sprintf("%s %q is not one of %s", name, v, strings.Join(valid, ", ")))
		}
	}
	check("type", string(aq.Type), data.Types)
	check("severity", string(aq.Severity), data.Severities)
	check("status", string(aq.Status), data.Statuses)
	aq.SuppressedBy = form.Get("suppressed_by")
	switch form.Get("suppressed") {
	case "", "any":
	case "no":
		aq.Unsuppressed = true
	default:
		problems = append(problems, fmt.Sprintf("suppressed %q is not one of any, no", form.Get("suppressed")))
	}
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"from", &aq.From}, {"to", &aq.To}} {
		if s := form.Get(f.name); s != "" {
			t, err := api.ParseTime(s)
			if err != nil {
				problems = append(problems, f.name+": "+err.Error())
			}
			*f.t = t
		}
	}
	if s := form.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			problems = append(problems, fmt.Sprintf("offset %q is not a whole number of 0 or more", s))
		}
		aq.Offset = max(n, 0)
	}
	ctx := r.Context()
	vs, err := h.d.Store.Vaults(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data.Vaults = vs
	code := http.StatusOK
	if len(problems) > 0 {
		data.Problems, code = problems, http.StatusBadRequest
	} else {
		data.Page, err = h.d.Store.Alerts(ctx, aq)
		if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	data.Offset, data.Shown = aq.Offset, len(data.Page.Alerts)
	if aq.Offset > 0 {
		data.Prev = pageURL("/alerts", form, "offset", strconv.Itoa(max(aq.Offset-alertsPage, 0)))
	}
	if aq.Offset+len(data.Page.Alerts) < data.Page.Total {
		data.Next = pageURL("/alerts", form, "offset", strconv.Itoa(aq.Offset+alertsPage))
	}
	render(w, r, h.d.Logger, code, "alerts", view{Title: "Alerts", Nav: "alerts", Data: data})
}

// alertData is the alert page's.
type alertData struct {
	api.AlertDetail
	Info     alert.Info
	Known    bool
	Timeline timeline
	HasLine  bool
	Statuses []store.Status
	Notice   string
	Problem  string
	Vaults   []alert.Vault // the main vault, then the others
}

// notices are the messages a redirect may ask the alert page to show, by
// key: never text from the query itself.
var notices = map[string]string{
	"updated": "The status was changed.",
}

var problems = map[string]string{
	"conflict": "Someone changed this alert while you were looking at it: nothing was changed. Review its history below and try again.",
}

func (h *handlers) alert(w http.ResponseWriter, r *http.Request) {
	d, err := api.LoadAlert(r.Context(), h.d.Store, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data := alertData{AlertDetail: d, Statuses: store.Statuses(),
		Notice: notices[r.URL.Query().Get("notice")], Problem: problems[r.URL.Query().Get("problem")]}
	data.Info, data.Known = alert.Lookup(d.Alert.Type)
	data.Timeline, data.HasLine = objectTimeline(d.Alert.Evidence.Objects)
	data.Vaults = append([]alert.Vault{d.Alert.Vault}, d.Alert.Vaults...)
	data.Vaults = slices.CompactFunc(data.Vaults, func(a, b alert.Vault) bool { return a.ID == b.ID })
	title := d.Alert.Title
	if title == "" {
		title = string(d.Alert.Type)
	}
	render(w, r, h.d.Logger, http.StatusOK, "alert", view{Title: title, Nav: "alerts", Data: data})
}

// maxForm bounds a form body.
const maxForm = 64 << 10

func (h *handlers) setStatus(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.problem(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	id := r.PathValue("id")
	req := api.StatusRequest{Status: store.Status(r.PostForm.Get("status")), Comment: strings.TrimSpace(r.PostForm.Get("comment"))}
	version := 0
	if s := r.PostForm.Get("version"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			h.problem(w, r, http.StatusBadRequest, fmt.Sprintf("The form's version %q is not an alert version.", s))
			return
		}
		version = n
	}
	if err := req.Validate(); err != nil {
		h.problem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	_, err := api.ChangeStatus(r.Context(), h.d, id, req, version)
	switch {
	case errors.Is(err, api.ErrNotSignedIn), errors.Is(err, api.ErrForbidden):
		h.problem(w, r, http.StatusForbidden, err.Error())
	case errors.Is(err, store.ErrConflict):
		http.Redirect(w, r, alertURL(id)+"?problem=conflict#status", http.StatusSeeOther)
	case err != nil:
		h.fail(w, r, err)
	default:
		http.Redirect(w, r, alertURL(id)+"?notice=updated#status", http.StatusSeeOther)
	}
}

// vaultData is the vault page's.
type vaultData struct {
	Vault      vaultRow
	Range      string
	Ranges     []string
	Chart      barChart
	Alerts     store.AlertPage
	Callers    []store.CallerCount
	Baseline   api.Baseline
	HasBase    bool
	From, To   time.Time
	AlertsMore bool
}

// vaultRanges are the spans a vault page shows, by name.
var vaultRanges = map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}

// vaultAlertsShown bounds the alerts a vault page lists.
const vaultAlertsShown = 50

func (h *handlers) vault(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, err := h.findVault(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rng := r.URL.Query().Get("range")
	if rng == "" {
		rng = "24h"
	}
	span, ok := vaultRanges[rng]
	if !ok {
		h.problem(w, r, http.StatusBadRequest, fmt.Sprintf("range %q is not one of 24h, 7d, 30d", rng))
		return
	}
	bucket := api.AutoBucket(span, 48)
	to := h.d.Clock().UTC().Truncate(bucket).Add(bucket)
	from := to.Add(-span)
	st, class := vaultStatus(v)
	data := vaultData{Vault: vaultRow{v, st, class}, Range: rng, Ranges: []string{"24h", "7d", "30d"}, From: from, To: to}
	pts, err := h.d.Store.Activity(ctx, v.ID, from, to, bucket)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data.Chart = activityChart(pts, bucket)
	if data.Alerts, err = h.d.Store.Alerts(ctx, store.AlertQuery{Vault: v.ID, Limit: vaultAlertsShown}); err != nil {
		h.fail(w, r, err)
		return
	}
	data.AlertsMore = data.Alerts.Total > len(data.Alerts.Alerts)
	if data.Callers, err = h.d.Store.TopCallers(ctx, v.ID, from, to, 15); err != nil {
		h.fail(w, r, err)
		return
	}
	data.Baseline, data.HasBase = api.VaultBaseline(h.d, v.ID)
	render(w, r, h.d.Logger, http.StatusOK, "vault", view{Title: v.Name, Nav: "vaults", Data: data})
}

// findVault returns the summary of the page's vault: one an event was
// stored for or, failing that, one an alert names (a vault whose events
// were never indexed still has its alerts shown).
func (h *handlers) findVault(r *http.Request) (store.VaultSummary, error) {
	id := r.PathValue("id")
	v, err := api.FindVault(r.Context(), h.d.Store, id)
	if !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	page, aerr := h.d.Store.Alerts(r.Context(), store.AlertQuery{Vault: id, Limit: 1})
	if aerr != nil || len(page.Alerts) == 0 {
		return v, err
	}
	a := page.Alerts[0].Alert
	for _, av := range append([]alert.Vault{a.Vault}, a.Vaults...) {
		if av.ID == id {
			return store.VaultSummary{Provider: event.Provider(av.Provider), ID: av.ID, Name: av.Name}, nil
		}
	}
	return store.VaultSummary{ID: id, Name: id}, nil
}

// investigateData is the investigation page's.
type investigateData struct {
	Form     url.Values
	Problems []string
	Searched bool
	Page     store.EventPage
	Export   url.Values // the CSV export's query: the filters, no cursor
	Next     string
}

// investigateFilters are the fields of the investigation form that pick
// whose operations to show.
var investigateFilters = []string{"ip", "object_id", "upn", "app_id", "principal", "vault", "object"}

func (h *handlers) investigate(w http.ResponseWriter, r *http.Request) {
	form := r.URL.Query()
	data := investigateData{Form: form}
	clean := url.Values{}
	for _, k := range append(slices.Clone(investigateFilters), "from", "to", "cursor") {
		if v := strings.TrimSpace(form.Get(k)); v != "" {
			clean.Set(k, v)
		}
	}
	for _, k := range investigateFilters {
		if clean.Has(k) {
			data.Searched = true
		}
	}
	code := http.StatusOK
	if data.Searched {
		req := &http.Request{URL: &url.URL{RawQuery: clean.Encode()}}
		eq, err := api.EventFilters(req)
		if err != nil {
			data.Problems = strings.Split(err.Error(), "\n")
			code = http.StatusBadRequest
		} else if data.Page, err = h.d.Store.Events(r.Context(), eq); errors.Is(err, store.ErrInvalid) {
			data.Problems, code = []string{err.Error()}, http.StatusBadRequest
		} else if err != nil {
			h.fail(w, r, err)
			return
		}
		data.Export = url.Values{}
		for k, v := range clean {
			if k != "cursor" {
				data.Export[k] = v
			}
		}
		if data.Page.Next != "" {
			data.Next = pageURL("/investigate", data.Export, "cursor", data.Page.Next)
		}
	}
	render(w, r, h.d.Logger, code, "investigate", view{Title: "Investigate", Nav: "investigate", Data: data})
}
