package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/source"
	"vaultwatch/internal/store"
)

// handlers serve the routes of Routes.
type handlers struct {
	d Deps
}

// maxBody bounds a request body the API reads.
const maxBody = 64 << 10

// maxComment bounds a status change's comment, in bytes.
const maxComment = 4000

// errorBody is every error's JSON.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON writes v with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v) // the client went away: nothing to do
}

// writeError writes {"error": msg}; a multi-line message becomes one line.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: strings.ReplaceAll(msg, "\n", "; ")})
}

// StoreErrorStatus maps a store error to an HTTP status: 404 for
// ErrNotFound, 400 for ErrInvalid, 412 for ErrConflict, 409 for ErrExists,
// 500 otherwise.
func StoreErrorStatus(err error) int {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, store.ErrConflict):
		return http.StatusPreconditionFailed
	case errors.Is(err, store.ErrExists):
		return http.StatusConflict
	case errors.Is(err, context.Canceled):
		return 499 // the client went away
	}
	return http.StatusInternalServerError
}

// fail answers a store error: its text for the client's mistakes, a generic
// message (and a log line) for the server's.
func (h *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := StoreErrorStatus(err)
	if code >= 500 || code == 499 {
		h.d.Logger.Error("request failed", "component", "api", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error; the server log has the details")
		return
	}
	writeError(w, code, err.Error())
}

// badQuery answers 400 when q found problems and reports whether it did.
func badQuery(w http.ResponseWriter, q *query) bool {
	if err := q.err(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return true
	}
	return false
}

func (h *handlers) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (h *handlers) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := h.d.Store.EngineState(ctx); err != nil {
		h.d.Logger.Warn("store not ready", "component", "api", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "the store does not answer"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Parameter names of the alert list.
var alertParams = []string{"vault", "type", "severity", "status", "entity", "from", "to", "limit", "offset"}

// AlertTypes lists every alert type id, in the catalogue's order.
func AlertTypes() []string {
	var out []string
	for _, in := range alert.Catalogue() {
		out = append(out, string(in.Type))
	}
	return out
}

// Severities lists the alert severities, lowest first.
var Severities = []string{string(alert.SeverityLow), string(alert.SeverityMedium), string(alert.SeverityHigh)}

// Statuses lists the alert statuses.
func Statuses() []string {
	var out []string
	for _, s := range store.Statuses() {
		out = append(out, string(s))
	}
	return out
}

// alertQuery reads the alert list's filters.
func alertQuery(q *query) store.AlertQuery {
	aq := store.AlertQuery{
		Vault:    q.str("vault"),
		Type:     alert.Type(q.oneOf("type", AlertTypes())),
		Severity: alert.Severity(q.oneOf("severity", Severities)),
		Status:   store.Status(q.oneOf("status", Statuses())),
		Entity:   q.str("entity"),
		From:     q.time("from"),
		To:       q.time("to"),
		Limit:    q.int("limit", 100, 1, 1000),
		Offset:   q.int("offset", 0, 0, 1<<31-1),
	}
	if !aq.From.IsZero() && !aq.To.IsZero() && !aq.From.Before(aq.To) {
		q.fail("from", fmt.Errorf("%s is not before to (%s)", aq.From.Format(time.RFC3339), aq.To.Format(time.RFC3339)))
	}
	return aq
}

func (h *handlers) alerts(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r, alertParams...)
	aq := alertQuery(q)
	if badQuery(w, q) {
		return
	}
	page, err := h.d.Store.Alerts(r.Context(), aq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if page.Alerts == nil {
		page.Alerts = []store.AlertRecord{}
	}
	writeJSON(w, http.StatusOK, page)
}

// AlertDetail is an alert with its handling and its history: the body of
// GET /api/v1/alerts/{id}.
type AlertDetail struct {
	store.AlertRecord
	History []store.StatusChange `json:"history"`
}

// etag returns the entity tag of an alert version.
func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// LoadAlert reads an alert and its history.
func LoadAlert(ctx context.Context, s store.Store, id string) (AlertDetail, error) {
	rec, err := s.Alert(ctx, id)
	if err != nil {
		return AlertDetail{}, err
	}
	hist, err := s.History(ctx, id)
	if err != nil {
		return AlertDetail{}, err
	}
	if hist == nil {
		hist = []store.StatusChange{}
	}
	return AlertDetail{AlertRecord: rec, History: hist}, nil
}

func (h *handlers) alert(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	if badQuery(w, q) {
		return
	}
	d, err := LoadAlert(r.Context(), h.d.Store, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tag := etag(d.Version)
	w.Header().Set("ETag", tag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.TrimPrefix(inm, "W/") == tag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// StatusRequest is the body of POST /api/v1/alerts/{id}/status.
type StatusRequest struct {
	Status  store.Status `json:"status"`
	Comment string       `json:"comment"`
}

// Validate checks the requested status and the comment's length.
func (s StatusRequest) Validate() error {
	var errs []error
	if !s.Status.Valid() {
		errs = append(errs, fmt.Errorf("status %q is not one of %s", s.Status, strings.Join(Statuses(), ", ")))
	}
	if len(s.Comment) > maxComment {
		errs = append(errs, fmt.Errorf("comment is %d bytes, more than %d", len(s.Comment), maxComment))
	}
	return errors.Join(errs...)
}

// parseIfMatch reads an If-Match header holding one version ("3", "\"3\""
// or W/"3"); 0 when absent.
func parseIfMatch(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	s := strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("If-Match %q is not an alert version (its ETag, e.g. \"3\")", v)
	}
	return n, nil
}

// ChangeStatus applies a status change by the context's principal, at the
// clock's time; ifVersion 0 changes whatever the version. It fails with
// ErrNotSignedIn without a principal and ErrForbidden when the principal
// is not at least a responder (the authentication middleware should have
// refused the request already), and with the store's errors.
func ChangeStatus(ctx context.Context, d Deps, id string, req StatusRequest, ifVersion int) (store.AlertRecord, error) {
	p, ok := auth.From(ctx)
	if !ok || p.Name == "" {
		return store.AlertRecord{}, fmt.Errorf("alert %s: no signed-in caller to record: %w", id, ErrNotSignedIn)
	}
	if !auth.Allows(p.Role, auth.RoleResponder) {
		return store.AlertRecord{}, fmt.Errorf("alert %s: %s has role %q: %w", id, p.Name, p.Role, ErrForbidden)
	}
	if err := req.Validate(); err != nil {
		return store.AlertRecord{}, fmt.Errorf("%w: %w", err, store.ErrInvalid)
	}
	c := store.StatusChange{Status: req.Status, By: p.Name, Comment: req.Comment, At: d.Clock().UTC()}
	return d.Store.SetStatus(ctx, id, c, ifVersion)
}

// Errors of ChangeStatus.
var (
	// ErrNotSignedIn is a request without an authenticated caller.
	ErrNotSignedIn = errors.New("not signed in")
	// ErrForbidden is a caller whose role does not allow the change.
	ErrForbidden = errors.New("changing an alert's status needs the responder role")
)

func (h *handlers) setStatus(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
		return
	}
	ifVersion, err := parseIfMatch(r.Header.Get("If-Match"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var req StatusRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "body: more than one JSON value")
		return
	}
	if err := req.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	id := r.PathValue("id")
	if _, err := ChangeStatus(r.Context(), h.d, id, req, ifVersion); err != nil {
		switch {
		case errors.Is(err, ErrNotSignedIn):
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		case errors.Is(err, ErrForbidden):
			writeError(w, http.StatusForbidden, err.Error())
			return
		}
		h.fail(w, r, err)
		return
	}
	d, err := LoadAlert(r.Context(), h.d.Store, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(d.Version))
	writeJSON(w, http.StatusOK, d)
}

func (h *handlers) vaults(w http.ResponseWriter, r *http.Request) {
	if badQuery(w, newQuery(r)) {
		return
	}
	vs, err := h.d.Store.Vaults(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if vs == nil {
		vs = []store.VaultSummary{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"vaults": vs})
}

// FindVault returns the summary of the vault with the given id, or an
// error wrapping store.ErrNotFound.
func FindVault(ctx context.Context, s store.Store, id string) (store.VaultSummary, error) {
	vs, err := s.Vaults(ctx)
	if err != nil {
		return store.VaultSummary{}, err
	}
	for _, v := range vs {
		if v.ID == id {
			return v, nil
		}
	}
	return store.VaultSummary{}, fmt.Errorf("vault %q: %w (ids are URL-escaped in paths: %%2F for /)", id, store.ErrNotFound)
}

// pathVault reads and finds the {id} vault; it answers the request and
// returns false when it cannot.
func (h *handlers) pathVault(w http.ResponseWriter, r *http.Request) (store.VaultSummary, bool) {
	v, err := FindVault(r.Context(), h.d.Store, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return v, false
	}
	return v, true
}

func (h *handlers) vault(w http.ResponseWriter, r *http.Request) {
	if badQuery(w, newQuery(r)) {
		return
	}
	if v, ok := h.pathVault(w, r); ok {
		writeJSON(w, http.StatusOK, v)
	}
}

// Series is a time series' range and points.
type Series[P any] struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Bucket string    `json:"bucket"`
	Points []P       `json:"points"`
}

func (h *handlers) activity(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r, "from", "to", "bucket")
	from, to, bucket := q.series(h.d.Clock())
	if badQuery(w, q) {
		return
	}
	v, ok := h.pathVault(w, r)
	if !ok {
		return
	}
	pts, err := h.d.Store.Activity(r.Context(), v.ID, from, to, bucket)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Series[store.ActivityPoint]{From: from, To: to, Bucket: FormatBucket(bucket), Points: pts})
}

func (h *handlers) callers(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r, "from", "to", "limit")
	to := q.time("to")
	if to.IsZero() {
		to = h.d.Clock().UTC()
	}
	from := q.time("from")
	if from.IsZero() {
		from = to.Add(-store.DefaultRetention)
	}
	n := q.int("limit", 10, 1, 1000)
	if !from.Before(to) {
		q.fail("from", fmt.Errorf("%s is not before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339)))
	}
	if badQuery(w, q) {
		return
	}
	v, ok := h.pathVault(w, r)
	if !ok {
		return
	}
	cs, err := h.d.Store.TopCallers(r.Context(), v.ID, from, to, n)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if cs == nil {
		cs = []store.CallerCount{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "callers": cs})
}

func (h *handlers) baseline(w http.ResponseWriter, r *http.Request) {
	if badQuery(w, newQuery(r)) {
		return
	}
	v, ok := h.pathVault(w, r)
	if !ok {
		return
	}
	b, ok := VaultBaseline(h.d, v.ID)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("vault %q: nothing learned yet", v.ID))
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// VaultBaseline returns what detection learned of a vault, its lists
// sorted (most calls first, networks by prefix) and never nil, and false
// when nothing was learned or no engine provides baselines.
func VaultBaseline(d Deps, vaultID string) (Baseline, bool) {
	if d.Baseline == nil {
		return Baseline{}, false
	}
	b, ok := d.Baseline(vaultID)
	if !ok {
		return Baseline{}, false
	}
	byCalls := func(a, b Known) int { return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Name, b.Name)) }
	b.Apps = slices.SortedFunc(slices.Values(b.Apps), byCalls)
	b.Users = slices.SortedFunc(slices.Values(b.Users), byCalls)
	b.Networks = slices.SortedFunc(slices.Values(b.Networks), func(a, b KnownNet) int { return cmp.Compare(a.Prefix, b.Prefix) })
	for _, l := range []*[]Known{&b.Apps, &b.Users} {
		if *l == nil {
			*l = []Known{}
		}
	}
	if b.Networks == nil {
		b.Networks = []KnownNet{}
	}
	return b, true
}

func (h *handlers) sources(w http.ResponseWriter, r *http.Request) {
	if badQuery(w, newQuery(r)) {
		return
	}
	ss := h.d.Sources()
	if ss == nil {
		ss = []source.Status{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": ss})
}

func (h *handlers) alertStats(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r, "from", "to", "bucket")
	from, to, bucket := q.series(h.d.Clock())
	if badQuery(w, q) {
		return
	}
	pts, err := h.d.Store.AlertCounts(r.Context(), from, to, bucket)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Series[store.CountPoint]{From: from, To: to, Bucket: FormatBucket(bucket), Points: pts})
}
