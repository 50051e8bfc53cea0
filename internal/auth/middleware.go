package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// LoginPath is the page Require sends a browser to when it is not signed
// in, with the page it asked for in the "next" parameter.
const LoginPath = "/login"

// Middleware puts the caller of each request in its context (From):
//
//   - a request with an "Authorization: Bearer vwt_..." header is a
//     machine's: the token must be live, or the request gets 401 (JSON) at
//     once; no cookie is looked at and no CSRF token is needed (a browser
//     never adds such a header by itself). Other Authorization headers
//     (a proxy's Basic or Bearer credentials) are ignored;
//   - otherwise an unsafe request (POST, PUT, PATCH, DELETE, ...) that
//     another site made a browser send is refused with 403 (Sec-Fetch-Site
//     or Origin against Host), signed in or not;
//   - otherwise the session cookie, when it names a live session of an
//     enabled user, makes the caller that user; an unsafe request must
//     then carry the session's CSRF token in the X-CSRF-Token header or,
//     without the header, the "csrf" field of a form body (the form is then
//     parsed here: handlers read r.PostForm), or it gets 403. The login form (POST LoginPath)
//     is exempt: it does not act with the session it may come with (Login
//     replaces it), and the same-origin check above keeps other sites from
//     signing a browser in.
//
// A request with no valid credential passes on without a principal:
// Require refuses it where a role is needed. Responses to signed-in callers
// are marked Cache-Control: no-store. A store error answers 500.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); strings.HasPrefix(bearer(h), TokenPrefix) {
			p, err := s.token(ctx, h)
			if errors.Is(err, ErrBadToken) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="vaultwatch", error="invalid_token"`)
				writeError(w, http.StatusUnauthorized, "invalid or revoked API token")
				return
			}
			if err != nil {
				s.log.Error("authenticate token", "path", r.URL.Path, "error", err)
				writeError(w, http.StatusInternalServerError, "internal error")
				return
			}
			w.Header().Set("Cache-Control", "no-store")
			next.ServeHTTP(w, r.WithContext(WithPrincipal(ctx, p)))
			return
		}
		unsafe := !safeMethod(r.Method)
		if unsafe {
			if err := s.cop.Check(r); err != nil {
				s.log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
					"ip", clientIP(r), "origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
				refuse(w, r, http.StatusForbidden, "cross-origin request refused")
				return
			}
		}
		w.Header().Add("Vary", "Cookie")
		p, ok, err := s.session(w, r)
		if err != nil {
			s.log.Error("authenticate session", "path", r.URL.Path, "error", err)
			refuse(w, r, http.StatusInternalServerError, "internal error")
			return
		}
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if unsafe && !(r.Method == http.MethodPost && r.URL.Path == LoginPath) && !checkCSRF(r, p) {
			s.log.Warn("CSRF token missing or wrong", "method", r.Method, "path", r.URL.Path, "user", p.Name, "ip", clientIP(r))
			refuse(w, r, http.StatusForbidden, "missing or wrong CSRF token: reload the page and try again")
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(ctx, p)))
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Require lets through the requests whose principal (see Middleware) has
// at least role; role "" lets everyone through (health checks). It
// refuses the others:
//
//   - no principal: 401; under /api/ and for any request not asking for
//     HTML, a JSON {"error": ...} with WWW-Authenticate: Bearer; a page
//     asked for by a browser (Accept: text/html) is redirected (303) to
//     LoginPath?next=<the page>;
//   - a principal with a lesser role (an ingest token has none of the
//     roles): 403, JSON under /api/, text otherwise.
//
// Require panics on an unknown role: that is a mistake in a route table.
func Require(role string, h http.Handler) http.Handler {
	if role == "" {
		return h
	}
	if !ValidRole(role) {
		panic("auth.Require: unknown role " + role)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := From(r.Context())
		switch {
		case !ok:
			unauthenticated(w, r)
		case !Allows(p.Role, role):
			refuse(w, r, http.StatusForbidden, "this needs the "+role+" role")
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// RequireIngest lets through the requests of an ingest token for source
// (a principal with RoleIngest and that Source): 401 without a principal,
// 403 for any other.
func RequireIngest(source string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := From(r.Context())
		switch {
		case !ok:
			w.Header().Set("WWW-Authenticate", `Bearer realm="vaultwatch"`)
			writeError(w, http.StatusUnauthorized, "an ingest token is needed")
		case p.Role != RoleIngest || p.Source != source:
			writeError(w, http.StatusForbidden, "the token is not an ingest token of this source")
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// AuthorizeIngest checks a request's ingest token, for the HTTP ingest
// source's Authorize: it returns the token's source and true for an
// ingest token (taken from the context when Middleware ran, else from the
// Authorization header), false for anything else. Other roles' tokens and
// sessions may not send events.
func (s *Service) AuthorizeIngest(r *http.Request) (source string, ok bool) {
	p, ok := From(r.Context())
	if !ok {
		h := r.Header.Get("Authorization")
		if !strings.HasPrefix(bearer(h), TokenPrefix) {
			return "", false
		}
		var err error
		if p, err = s.token(r.Context(), h); err != nil {
			if !errors.Is(err, ErrBadToken) {
				s.log.Error("authenticate token", "path", r.URL.Path, "error", err)
			}
			return "", false
		}
	}
	if !p.Token || p.Role != RoleIngest || p.Source == "" {
		return "", false
	}
	return p.Source, true
}

// isAPI reports whether r is answered in JSON rather than as a page.
func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || !strings.Contains(r.Header.Get("Accept"), "text/html")
}

func unauthenticated(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vaultwatch"`)
		writeError(w, http.StatusUnauthorized, "authentication required")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, LoginPath+"?next="+url.QueryEscape(SafeNext(r.URL.RequestURI())), http.StatusSeeOther)
}

// refuse answers an error in JSON for the API, in text for pages.
func refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if isAPI(r) {
		writeError(w, status, msg)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, status)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// SafeNext returns next when it is a path of this site ("/alerts?x=1"),
// and "/" otherwise: an absolute URL, a scheme-relative "//host", a
// backslash (which browsers read as a slash), a control character or
// anything not starting with "/" would send the user elsewhere after login.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return "/"
	}
	if strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// ContentSecurityPolicy is the policy SecurityHeaders sets. Pages may load
// scripts, styles, fonts and images from this site only (images also as
// data: URLs); no inline script, no inline style, no event-handler
// attribute (onclick=...), no eval, no plugin, no framing by any site;
// forms post to this site only.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// SecurityHeaders sets on every response: the Content-Security-Policy
// above, X-Content-Type-Options: nosniff, Referrer-Policy: same-origin,
// X-Frame-Options: DENY, Cross-Origin-Opener-Policy: same-origin, and over
// TLS Strict-Transport-Security (one year). Middleware adds
// Cache-Control: no-store to the responses of signed-in callers.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
