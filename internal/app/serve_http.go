package app

import (
	"context"
	"errors"
	"net/http"

	"vaultwatch/internal/api"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/source/httpingest"
	"vaultwatch/internal/ui"
)

// routes is the server's HTTP surface: every route behind authentication
// (only the health checks are anonymous), security headers on every
// response.
func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	d := api.Deps{
		Store:    s.store,
		Sources:  s.SourceStatus,
		Baseline: s.baseline,
		Clock:    s.opts.Clock,
		Logger:   s.log.With("component", "api"),
	}
	d.Metrics = api.NewMetrics(s.SourceStatus)
	d.SampleAlerts = s.SampleAlerts
	d.Accounts = s.auth
	d.RulesChanged = func() {
		if err := s.ReloadRules(context.Background()); err != nil {
			s.log.Warn("suppression rules", "err", err)
		}
	}
	d.Metrics.Registry.MustRegister(pipelineCollector{s})
	for _, rs := range [][]api.Route{api.Routes(d), ui.Routes(d)} {
		for _, r := range rs {
			h := r.Handler
			if r.Role != "" {
				h = auth.Require(r.Role, h)
			}
			mux.Handle(r.MuxPattern(), h)
		}
	}
	// Ingest: the token names the source; each HTTP source has its handler.
	mux.HandleFunc("POST "+httpingest.Path, s.ingestHandler) // the source's Authorize checks the token
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) { ui.LoginPage(w, r, "") })
	mux.HandleFunc("POST /login", s.login)
	mux.Handle("POST /logout", auth.Require(auth.RoleViewer, http.HandlerFunc(s.logout)))
	return auth.SecurityHeaders(s.auth.Middleware(mux))
}

// ingestHandler hands a request to the HTTP source its token is bound to.
func (s *Service) ingestHandler(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.From(r.Context())
	if !ok || !p.Token {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"send an ingest token: Authorization: Bearer vwt_..."}` + "\n"))
		return
	}
	h := s.ingest[p.Source]
	if h == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":"this token is not bound to an HTTP ingest source of this server"}` + "\n"))
		return
	}
	h.ServeHTTP(w, r)
}

func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		ui.LoginPage(w, r, "The form could not be read.")
		return
	}
	if err := s.auth.Login(w, r, r.PostForm.Get("username"), r.PostForm.Get("password")); err != nil {
		// Login has set the status and Retry-After; the page says why.
		msg := "Wrong user name or password."
		if errors.Is(err, auth.ErrRateLimited) {
			msg = "Too many failed logins: wait a few minutes."
		}
		ui.LoginPage(w, r, msg)
		return
	}
	http.Redirect(w, r, auth.SafeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (s *Service) logout(w http.ResponseWriter, r *http.Request) {
	s.auth.Logout(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// baseline is what detection learned of a vault, as of the last saved
// state.
func (s *Service) baseline(vaultID string) (api.Baseline, bool) {
	m := s.pipeline.baselines.Load()
	if m == nil {
		return api.Baseline{}, false
	}
	b, ok := (*m)[vaultID]
	if !ok {
		return api.Baseline{}, false
	}
	out := api.Baseline{Since: b.Since}
	for _, c := range b.Callers {
		k := api.Known{Name: c.Name, First: c.First}
		if c.Person {
			out.Users = append(out.Users, k)
		} else {
			out.Apps = append(out.Apps, k)
		}
	}
	for _, n := range b.Networks {
		kn := api.KnownNet{Prefix: n.Prefix.String()}
		if s.intel != nil {
			kn.Labels = s.intel.Classify(n.Prefix.Addr()).Labels()
		}
		out.Networks = append(out.Networks, kn)
	}
	return out, true
}
