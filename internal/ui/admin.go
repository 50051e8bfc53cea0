package ui

import (
	"errors"
	"net/http"
	"strings"

	"vaultwatch/internal/auth"
	"vaultwatch/internal/store"
)

// adminData is the users and tokens page's.
type adminData struct {
	Users   []store.User
	Tokens  []store.APIToken
	Roles   []string
	Notice  string
	Problem string
	// NewToken is a token just made, shown this once.
	NewToken, NewTokenName string
}

// admin lists the users and the API tokens.
func (h *handlers) admin(w http.ResponseWriter, r *http.Request) {
	h.renderAdmin(w, r, http.StatusOK, adminData{Notice: adminNotices[r.URL.Query().Get("notice")]})
}

var adminNotices = map[string]string{
	"user":     "The user was added.",
	"password": "The password was changed; the user's sessions ended.",
	"disabled": "The user was disabled; their sessions ended.",
	"enabled":  "The user was enabled.",
	"revoked":  "The token was revoked.",
}

func (h *handlers) renderAdmin(w http.ResponseWriter, r *http.Request, code int, data adminData) {
	ctx := r.Context()
	var err error
	if data.Users, err = h.d.Store.Users(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	if data.Tokens, err = h.d.Store.Tokens(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	data.Roles = []string{auth.RoleViewer, auth.RoleResponder, auth.RoleAdmin}
	render(w, r, h.d.Logger, code, "admin", view{Title: "Users and tokens", Nav: "admin", Data: data})
}

// adminForm reads a form of the admin page; false when it answered.
func (h *handlers) adminForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.problem(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return false
	}
	if h.d.Accounts == nil {
		h.problem(w, r, http.StatusNotImplemented, "This server manages no accounts.")
		return false
	}
	return true
}

// accountProblem answers a refused account change on the page itself.
func (h *handlers) accountProblem(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrExists) || errors.Is(err, auth.ErrWeakPassword) {
		h.renderAdmin(w, r, http.StatusBadRequest, adminData{Problem: err.Error()})
		return
	}
	h.fail(w, r, err)
}

func (h *handlers) addUser(w http.ResponseWriter, r *http.Request) {
	if !h.adminForm(w, r) {
		return
	}
	f := r.PostForm
	if err := h.d.Accounts.CreateUser(r.Context(), strings.TrimSpace(f.Get("name")), f.Get("role"), f.Get("password")); err != nil {
		h.accountProblem(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin?notice=user", http.StatusSeeOther)
}

func (h *handlers) setPassword(w http.ResponseWriter, r *http.Request) {
	if !h.adminForm(w, r) {
		return
	}
	if err := h.d.Accounts.SetPassword(r.Context(), r.PathValue("name"), r.PostForm.Get("password")); err != nil {
		h.accountProblem(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin?notice=password", http.StatusSeeOther)
}

// setDisabled disables or enables a user; an admin cannot disable
// themselves (the last way in).
func (h *handlers) setDisabled(w http.ResponseWriter, r *http.Request) {
	if !h.adminForm(w, r) {
		return
	}
	ctx := r.Context()
	name := r.PathValue("name")
	disable := r.PostForm.Get("disabled") == "true"
	if p, _ := auth.From(ctx); disable && p.Name == name {
		h.renderAdmin(w, r, http.StatusBadRequest, adminData{Problem: "You cannot disable yourself."})
		return
	}
	u, err := h.d.Store.User(ctx, name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u.Disabled = disable
	if err := h.d.Store.UpdateUser(ctx, u); err != nil {
		h.fail(w, r, err)
		return
	}
	notice := "enabled"
	if disable {
		notice = "disabled"
		if err := h.d.Store.DeleteSessions(ctx, name); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/admin?notice="+notice, http.StatusSeeOther)
}

// addToken makes a token and shows it, once, on the page it answers with.
func (h *handlers) addToken(w http.ResponseWriter, r *http.Request) {
	if !h.adminForm(w, r) {
		return
	}
	f := r.PostForm
	p, _ := auth.From(r.Context())
	role, src := f.Get("role"), strings.TrimSpace(f.Get("source"))
	if src != "" {
		role = auth.RoleIngest
	}
	value, t, err := h.d.Accounts.CreateToken(r.Context(), strings.TrimSpace(f.Get("name")), role, src, p.Name)
	if err != nil {
		h.accountProblem(w, r, err)
		return
	}
	h.renderAdmin(w, r, http.StatusOK, adminData{NewToken: value, NewTokenName: t.Name,
		Notice: "The token " + t.ID + " was made. Copy it now: it is not shown again."})
}

func (h *handlers) revokeToken(w http.ResponseWriter, r *http.Request) {
	if !h.adminForm(w, r) {
		return
	}
	if err := h.d.Accounts.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin?notice=revoked", http.StatusSeeOther)
}
