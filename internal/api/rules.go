package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/store"
	"vaultwatch/internal/suppress"
)

// RuleView is a suppression rule with its state at the time of asking.
type RuleView struct {
	store.Rule
	State string `json:"state"`
}

// RuleRequest is the body of a rule's creation or edit.
type RuleRequest struct {
	Type     alert.Type      `json:"type,omitempty"`
	Matchers []store.Matcher `json:"matchers"`
	Reason   string          `json:"reason"`
	Comment  string          `json:"comment,omitempty"`
	StartsAt time.Time       `json:"starts_at,omitzero"` // default now
	EndsAt   time.Time       `json:"ends_at,omitzero"`   // zero: no expiry
	Disabled bool            `json:"disabled,omitempty"`
}

// SimulationResult lists the past alerts a rule would have silenced.
type SimulationResult struct {
	Checked int           `json:"checked"` // alerts looked at (the newest first)
	Matched int           `json:"matched"`
	Alerts  []alert.Alert `json:"alerts"` // the first of them
}

// maxSimulated bounds the past alerts a simulation reads, and listed the
// alerts it returns.
const (
	maxSimulated = 10000
	maxListed    = 200
)

// ViewRule returns a rule with its state at now.
func ViewRule(r store.Rule, now time.Time) RuleView {
	return RuleView{Rule: r, State: suppress.State(&r, now)}
}

// ruleFrom checks a request and makes the rule it describes.
func ruleFrom(req RuleRequest, author string, now time.Time) (store.Rule, error) {
	if req.Reason == "" {
		req.Reason = suppress.ReasonOther
	}
	r := store.Rule{Type: req.Type, Matchers: req.Matchers, Reason: req.Reason, Comment: req.Comment, Author: author,
		StartsAt: req.StartsAt, EndsAt: req.EndsAt, Disabled: req.Disabled, CreatedAt: now, UpdatedAt: now}
	if r.StartsAt.IsZero() {
		r.StartsAt = now
	}
	if r.Matchers == nil {
		r.Matchers = []store.Matcher{}
	}
	if len(r.Comment) > 4000 {
		return r, fmt.Errorf("comment: at most 4,000 characters: %w", store.ErrInvalid)
	}
	if _, err := suppress.Compile(r); err != nil {
		return r, err
	}
	return r, nil
}

// caller returns the signed-in principal allowed to change rules.
func caller(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.From(ctx)
	if !ok {
		return p, ErrNotSignedIn
	}
	if !auth.Allows(p.Role, auth.RoleResponder) {
		return p, ErrForbidden
	}
	return p, nil
}

// CreateRule saves a new rule authored by the signed-in responder.
func CreateRule(ctx context.Context, d Deps, req RuleRequest) (store.Rule, error) {
	p, err := caller(ctx)
	if err != nil {
		return store.Rule{}, err
	}
	r, err := ruleFrom(req, p.Name, d.Clock().UTC())
	if err != nil {
		return r, err
	}
	r, err = d.Store.CreateRule(ctx, r)
	if err == nil && d.RulesChanged != nil {
		d.RulesChanged()
	}
	return r, err
}

// UpdateRule replaces a rule's definition; ifVersion 0 does not check the
// version.
func UpdateRule(ctx context.Context, d Deps, id string, req RuleRequest, ifVersion int) (store.Rule, error) {
	p, err := caller(ctx)
	if err != nil {
		return store.Rule{}, err
	}
	old, err := d.Store.Rule(ctx, id)
	if err != nil {
		return old, err
	}
	r, err := ruleFrom(req, p.Name, d.Clock().UTC())
	if err != nil {
		return r, err
	}
	r.ID, r.CreatedAt = id, old.CreatedAt
	r, err = d.Store.UpdateRule(ctx, r, ifVersion)
	if err == nil && d.RulesChanged != nil {
		d.RulesChanged()
	}
	return r, err
}

// ExpireRule ends a rule now (rules are never deleted: their matches stay
// explained).
func ExpireRule(ctx context.Context, d Deps, id string, ifVersion int) (store.Rule, error) {
	p, err := caller(ctx)
	if err != nil {
		return store.Rule{}, err
	}
	r, err := d.Store.Rule(ctx, id)
	if err != nil {
		return r, err
	}
	suppress.Expire(&r, d.Clock().UTC())
	r.Author = p.Name
	r, err = d.Store.UpdateRule(ctx, r, ifVersion)
	if err == nil && d.RulesChanged != nil {
		d.RulesChanged()
	}
	return r, err
}

// SimulateRule shows which of the newest past alerts the rule would have
// silenced.
func SimulateRule(ctx context.Context, d Deps, req RuleRequest) (SimulationResult, error) {
	r, err := ruleFrom(req, "", d.Clock().UTC())
	if err != nil {
		return SimulationResult{}, err
	}
	c, err := suppress.Compile(r)
	if err != nil {
		return SimulationResult{}, err
	}
	past, err := suppress.Past(ctx, d.Store, c, maxSimulated, maxListed)
	return SimulationResult{Checked: past.Checked, Matched: past.Matched, Alerts: past.Alerts}, err
}

func decodeRule(w http.ResponseWriter, r *http.Request) (RuleRequest, bool) {
	var req RuleRequest
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
		return req, false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return req, false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "body: more than one JSON value")
		return req, false
	}
	return req, true
}

// ruleError answers a rule operation's error.
func (h *handlers) ruleError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNotSignedIn):
		writeError(w, http.StatusUnauthorized, err.Error())
	case errors.Is(err, ErrForbidden):
		writeError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, strings.TrimSuffix(err.Error(), ": "+store.ErrInvalid.Error()))
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusPreconditionFailed, "the rule changed since it was read (If-Match): read it again")
	default:
		h.fail(w, r, err)
	}
}

func (h *handlers) rules(w http.ResponseWriter, r *http.Request) {
	if badQuery(w, newQuery(r)) {
		return
	}
	rs, err := h.d.Store.Rules(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.d.Clock()
	out := make([]RuleView, 0, len(rs))
	for _, x := range rs {
		out = append(out, ViewRule(x, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": out})
}

func (h *handlers) rule(w http.ResponseWriter, r *http.Request) {
	if badQuery(w, newQuery(r)) {
		return
	}
	x, err := h.d.Store.Rule(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(x.Version))
	writeJSON(w, http.StatusOK, ViewRule(x, h.d.Clock()))
}

func (h *handlers) createRule(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeRule(w, r)
	if !ok {
		return
	}
	x, err := CreateRule(r.Context(), h.d, req)
	if err != nil {
		h.ruleError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(x.Version))
	w.Header().Set("Location", "/api/v1/rules/"+x.ID)
	writeJSON(w, http.StatusCreated, ViewRule(x, h.d.Clock()))
}

func (h *handlers) updateRule(w http.ResponseWriter, r *http.Request) {
	ifVersion, err := parseIfMatch(r.Header.Get("If-Match"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if ifVersion == 0 {
		writeError(w, http.StatusPreconditionRequired, "send If-Match with the rule's ETag: edits must not overwrite a change made meanwhile")
		return
	}
	req, ok := decodeRule(w, r)
	if !ok {
		return
	}
	x, err := UpdateRule(r.Context(), h.d, r.PathValue("id"), req, ifVersion)
	if err != nil {
		h.ruleError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(x.Version))
	writeJSON(w, http.StatusOK, ViewRule(x, h.d.Clock()))
}

func (h *handlers) expireRule(w http.ResponseWriter, r *http.Request) {
	ifVersion, err := parseIfMatch(r.Header.Get("If-Match"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	x, err := ExpireRule(r.Context(), h.d, r.PathValue("id"), ifVersion)
	if err != nil {
		h.ruleError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(x.Version))
	writeJSON(w, http.StatusOK, ViewRule(x, h.d.Clock()))
}

func (h *handlers) simulateRule(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeRule(w, r)
	if !ok {
		return
	}
	res, err := SimulateRule(r.Context(), h.d, req)
	if err != nil {
		h.ruleError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// SampleRequest is the body of a sample-alert request.
type SampleRequest struct {
	Types []alert.Type `json:"types,omitempty"` // every type when empty
}

func (h *handlers) sampleAlerts(w http.ResponseWriter, r *http.Request) {
	if h.d.SampleAlerts == nil {
		writeError(w, http.StatusNotImplemented, "this server makes no sample alerts")
		return
	}
	var req SampleRequest
	if r.ContentLength != 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
			return
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "body: "+err.Error())
			return
		}
	}
	for _, t := range req.Types {
		if _, ok := alert.Lookup(t); !ok {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("types: unknown alert type %q", t))
			return
		}
	}
	as, err := h.d.SampleAlerts(r.Context(), req.Types)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	writeJSON(w, http.StatusCreated, map[string]any{"alerts": ids})
}
