package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/api"
	"vaultwatch/internal/store"
	"vaultwatch/internal/suppress"
)

// rulesData is the rules list's.
type rulesData struct {
	Rules  []api.RuleView
	Notice string
}

func (h *handlers) rules(w http.ResponseWriter, r *http.Request) {
	rs, err := h.d.Store.Rules(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.d.Clock()
	data := rulesData{}
	for _, x := range rs {
		data.Rules = append(data.Rules, api.ViewRule(x, now))
	}
	switch r.URL.Query().Get("notice") {
	case "created":
		data.Notice = "The rule was saved. Alerts it matches from now on are stored dismissed."
	case "expired":
		data.Notice = "The rule was ended."
	}
	render(w, r, h.d.Logger, http.StatusOK, "rules", view{Title: "Suppression rules", Nav: "rules", Data: data})
}

// matcherRows is how many matcher rows the form offers.
const matcherRows = 8

// ruleForm is the rule form's.
type ruleForm struct {
	ID, Action      string // Action: where the form posts
	Version         int
	Rule            store.Rule
	Rows            []store.Matcher // Rule.Matchers and empty rows
	Types           []string
	Fields          []string
	Ops             []string
	Reasons         []string
	EndsAt          string
	Problem         string
	Simulated       bool
	Sim             api.SimulationResult
	FromAlert       string
	State           string
	SuppressedCount int
}

func (h *handlers) newForm(rule store.Rule) ruleForm {
	f := ruleForm{Rule: rule, Action: "/rules", Types: api.AlertTypes(), Ops: []string{"=", "!=", "=~", "cidr"},
		Reasons: []string{suppress.ReasonFalsePositive, suppress.ReasonBenignPositive, suppress.ReasonOther}}
	for k := range suppress.Fields {
		f.Fields = append(f.Fields, k)
	}
	slices.Sort(f.Fields)
	f.Rows = append(slices.Clone(rule.Matchers), make([]store.Matcher, max(matcherRows-len(rule.Matchers), 2))...)
	if !rule.EndsAt.IsZero() {
		f.EndsAt = rule.EndsAt.UTC().Format("2006-01-02T15:04")
	}
	return f
}

// newRule shows the form for a new rule, filled in from an alert when one
// is named (?alert=ID): its type, vault and caller.
func (h *handlers) newRule(w http.ResponseWriter, r *http.Request) {
	rule := store.Rule{Reason: suppress.ReasonFalsePositive}
	id := r.URL.Query().Get("alert")
	if id != "" {
		rec, err := h.d.Store.Alert(r.Context(), id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		rule = suppress.FromAlert(&rec.Alert)
		rule.Reason = suppress.ReasonFalsePositive
	}
	f := h.newForm(rule)
	f.FromAlert = id
	render(w, r, h.d.Logger, http.StatusOK, "rule", view{Title: "New suppression rule", Nav: "rules", Data: f})
}

func (h *handlers) editRule(w http.ResponseWriter, r *http.Request) {
	rule, err := h.d.Store.Rule(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := h.newForm(rule)
	f.ID, f.Version, f.Action = rule.ID, rule.Version, "/rules/"+rule.ID
	f.State = suppress.State(&rule, h.d.Clock())
	render(w, r, h.d.Logger, http.StatusOK, "rule", view{Title: "Suppression rule " + rule.ID, Nav: "rules", Data: f})
}

// parseRuleForm reads the rule form.
func parseRuleForm(r *http.Request) (api.RuleRequest, int, error) {
	var req api.RuleRequest
	f := r.PostForm
	req.Type = alert.Type(f.Get("type"))
	req.Reason = f.Get("reason")
	req.Comment = strings.TrimSpace(f.Get("comment"))
	fields, ops, values := f["field"], f["op"], f["value"]
	for i := range min(len(fields), len(ops), len(values)) {
		if strings.TrimSpace(values[i]) == "" && fields[i] == "" {
			continue
		}
		if fields[i] == "" || strings.TrimSpace(values[i]) == "" {
			return req, 0, fmt.Errorf("matcher %d needs both a field and a value", i+1)
		}
		req.Matchers = append(req.Matchers, store.Matcher{Field: fields[i], Op: ops[i], Value: strings.TrimSpace(values[i])})
	}
	if s := f.Get("ends_at"); s != "" {
		t, err := api.ParseTime(s)
		if err != nil {
			return req, 0, fmt.Errorf("end: %w", err)
		}
		req.EndsAt = t
	}
	version := 0
	if s := f.Get("version"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return req, 0, fmt.Errorf("the form's version %q is not a rule version", s)
		}
		version = n
	}
	return req, version, nil
}

// saveRule creates (POST /rules) or edits (POST /rules/{id}) a rule, or
// simulates it when the form's "simulate" button was used.
func (h *handlers) saveRule(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.problem(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	id := r.PathValue("id")
	req, version, err := parseRuleForm(r)
	again := func(code int, problem string, sim *api.SimulationResult) {
		rule := store.Rule{ID: id, Type: req.Type, Matchers: req.Matchers, Reason: req.Reason, Comment: req.Comment, EndsAt: req.EndsAt}
		f := h.newForm(rule)
		f.ID, f.Version, f.Problem, f.FromAlert = id, version, problem, r.PostForm.Get("alert")
		if id != "" {
			f.Action = "/rules/" + id
		}
		if sim != nil {
			f.Simulated, f.Sim = true, *sim
		}
		render(w, r, h.d.Logger, code, "rule", view{Title: "Suppression rule", Nav: "rules", Data: f})
	}
	if err != nil {
		again(http.StatusBadRequest, err.Error(), nil)
		return
	}
	ctx := r.Context()
	if r.PostForm.Get("action") == "simulate" {
		sim, err := api.SimulateRule(ctx, h.d, req)
		if err != nil {
			again(http.StatusBadRequest, strings.TrimSuffix(err.Error(), ": "+store.ErrInvalid.Error()), nil)
			return
		}
		again(http.StatusOK, "", &sim)
		return
	}
	if id == "" {
		_, err = api.CreateRule(ctx, h.d, req)
	} else {
		_, err = api.UpdateRule(ctx, h.d, id, req, version)
	}
	switch {
	case errors.Is(err, api.ErrNotSignedIn), errors.Is(err, api.ErrForbidden):
		h.problem(w, r, http.StatusForbidden, err.Error())
	case errors.Is(err, store.ErrInvalid):
		again(http.StatusBadRequest, strings.TrimSuffix(err.Error(), ": "+store.ErrInvalid.Error()), nil)
	case errors.Is(err, store.ErrConflict):
		again(http.StatusConflict, "The rule was changed by someone else since you opened it: open it again.", nil)
	case err != nil:
		h.fail(w, r, err)
	default:
		http.Redirect(w, r, "/rules?notice=created", http.StatusSeeOther)
	}
}

func (h *handlers) expireRule(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.problem(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	_, err := api.ExpireRule(r.Context(), h.d, r.PathValue("id"), 0)
	switch {
	case errors.Is(err, api.ErrNotSignedIn), errors.Is(err, api.ErrForbidden):
		h.problem(w, r, http.StatusForbidden, err.Error())
	case err != nil:
		h.fail(w, r, err)
	default:
		http.Redirect(w, r, "/rules?notice=expired", http.StatusSeeOther)
	}
}

// sampleAlerts makes one sample alert of each type (or of the form's type)
// and shows them in the list.
func (h *handlers) sampleAlerts(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.problem(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	if h.d.SampleAlerts == nil {
		h.problem(w, r, http.StatusNotImplemented, "This server makes no sample alerts.")
		return
	}
	var types []alert.Type
	if t := r.PostForm.Get("type"); t != "" {
		if _, ok := alert.Lookup(alert.Type(t)); !ok {
			h.problem(w, r, http.StatusBadRequest, fmt.Sprintf("Unknown alert type %q.", t))
			return
		}
		types = append(types, alert.Type(t))
	}
	if _, err := h.d.SampleAlerts(r.Context(), types); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/alerts?notice=samples&vault="+url.QueryEscape(alert.SampleVault.ID), http.StatusSeeOther)
}
