package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"vaultwatch/internal/store"
)

// Sessions.
//
// A session id is 32 random bytes in unpadded base64url, held by the
// browser in the session cookie (HttpOnly, SameSite=Lax, Path=/, Secure
// with Options.SecureCookies). The store keeps SHA-256 of it only.
//
// A session's CSRF token is derived, not drawn: HMAC-SHA256 keyed with the
// session id over "vaultwatch csrf", in base64url. Only the holder of the
// cookie can compute it, so it can be rendered into every form of every
// page (Principal.CSRF) without being kept anywhere; the store's
// Session.CSRF holds its SHA-256 for the record. A session's token changes
// with its id at every login.
//
// Expiry: ExpiresAt is the earlier of login+SessionTTL and last
// use+IdleTimeout. A request moves it forward when the last move is more
// than refreshEvery old.

// refreshEvery bounds how often a session's idle expiry (and a token's last
// use) is written.
const refreshEvery = time.Minute

// sessionIDBytes is the size of a session id.
const sessionIDBytes = 32

// sessionToucher is a store that can move a session's expiry in place.
// Stores without it have the session deleted and created again; a request
// that finds no session while this Service is doing so waits for it and
// looks again (see lookupSession).
type sessionToucher interface {
	TouchSession(ctx context.Context, idHash string, expiresAt time.Time) error
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// csrfToken derives the CSRF token of a session id.
func csrfToken(id string) string {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("vaultwatch csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validSessionID reports whether id has the shape of a session id.
func validSessionID(id string) bool {
	b, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(b) == sessionIDBytes
}

// clientIP is the address a request came from: its TCP peer. Forwarding
// headers are not trusted.
func clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

func (s *Service) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     s.opts.CookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
}

// setCookie sets the session cookie on w, replacing one set earlier in
// the same response (Middleware clears a dead session's cookie before
// Login sets a new one).
func (s *Service) setCookie(w http.ResponseWriter, c *http.Cookie) {
	h := w.Header()
	kept := h["Set-Cookie"][:0]
	for _, v := range h["Set-Cookie"] {
		if !strings.HasPrefix(v, s.opts.CookieName+"=") {
			kept = append(kept, v)
		}
	}
	h["Set-Cookie"] = kept
	http.SetCookie(w, c)
}

// clearCookie tells the browser to drop its session cookie.
func (s *Service) clearCookie(w http.ResponseWriter) {
	s.setCookie(w, s.cookie("", -1))
}

// sessionID returns the session id of r's cookie, "" when it has none
// of the right shape.
func (s *Service) sessionID(r *http.Request) string {
	c, err := r.Cookie(s.opts.CookieName)
	if err != nil || !validSessionID(c.Value) {
		return ""
	}
	return c.Value
}

// Login signs a user in from a page's login form: it refuses a request
// another site made (ErrCrossOrigin), checks the password (see
// Authenticate: ErrBadCredentials, ErrDisabled, ErrRateLimited, with
// Retry-After set on w for the last), ends the session the browser had, if
// any, and opens a new one under a new id (no session fixation), set in
// the cookie. The caller then redirects, to SafeNext of the form's "next"
// field say, or renders the login page again with the error:
// LoginStatus(err) is the status to answer with.
func (s *Service) Login(w http.ResponseWriter, r *http.Request, name, password string) error {
	if err := s.cop.Check(r); err != nil {
		s.log.Warn("login refused: cross-origin", "ip", clientIP(r), "origin", r.Header.Get("Origin"))
		return fmt.Errorf("login: %w", ErrCrossOrigin)
	}
	ctx := r.Context()
	u, err := s.Authenticate(ctx, name, password, clientIP(r))
	if rl, ok := errors.AsType[*RateLimitError](err); ok {
		w.Header().Set("Retry-After", retryAfter(rl.RetryAfter))
	}
	if err != nil {
		return err
	}
	if old := s.sessionID(r); old != "" {
		if err := s.st.DeleteSession(ctx, sha256Hex(old)); err != nil {
			return fmt.Errorf("login of %q: end the previous session: %w", name, err)
		}
	}
	now := s.now()
	var id string
	for range 3 {
		id = randomToken(sessionIDBytes)
		err = s.st.CreateSession(ctx, store.Session{
			IDHash:    sha256Hex(id),
			User:      u.Name,
			CSRF:      sha256Hex(csrfToken(id)),
			CreatedAt: now,
			ExpiresAt: now.Add(min(s.opts.IdleTimeout, s.opts.SessionTTL)),
		})
		if !errors.Is(err, store.ErrExists) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("login of %q: %w", name, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	s.setCookie(w, s.cookie(id, int(s.opts.SessionTTL/time.Second)))
	s.log.Info("login", "user", u.Name, "role", string(u.Role), "ip", clientIP(r))
	return nil
}

// LoginStatus is the HTTP status a login page answers a failed Login
// with: 429 when rate limited, 403 for a cross-origin request, 401 for
// wrong credentials or a disabled user, 500 otherwise.
func LoginStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrCrossOrigin):
		return http.StatusForbidden
	case errors.Is(err, ErrBadCredentials), errors.Is(err, ErrDisabled):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// retryAfter formats a wait as a Retry-After header: whole seconds,
// rounded up, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10)
}

// Logout ends the request's session, if any, and clears the cookie. It is
// a POST behind Middleware, so the CSRF token was checked. Logging out
// twice is no error.
func (s *Service) Logout(w http.ResponseWriter, r *http.Request) error {
	s.clearCookie(w)
	w.Header().Set("Cache-Control", "no-store")
	id := s.sessionID(r)
	if id == "" {
		return nil
	}
	if err := s.st.DeleteSession(r.Context(), sha256Hex(id)); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if p, ok := From(r.Context()); ok {
		s.log.Info("logout", "user", p.Name)
	}
	return nil
}

// session resolves the request's session cookie: the principal and true
// for a live session of an enabled user, false otherwise (a dead session
// is removed and its cookie cleared). The error is the store's.
func (s *Service) session(w http.ResponseWriter, r *http.Request) (Principal, bool, error) {
	id := s.sessionID(r)
	if id == "" {
		return Principal{}, false, nil
	}
	ctx := r.Context()
	idHash := sha256Hex(id)
	ses, err := s.lookupSession(ctx, idHash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, false, nil
	}
	if err != nil {
		return Principal{}, false, fmt.Errorf("session: %w", err)
	}
	now := s.now()
	end := ses.CreatedAt.Add(s.opts.SessionTTL)
	if !now.Before(ses.ExpiresAt) || !now.Before(end) {
		return Principal{}, false, s.endSession(ctx, w, idHash)
	}
	u, err := s.st.User(ctx, ses.User)
	if errors.Is(err, store.ErrNotFound) || err == nil && (u.Disabled || !ValidRole(string(u.Role))) {
		return Principal{}, false, s.endSession(ctx, w, idHash)
	}
	if err != nil {
		return Principal{}, false, fmt.Errorf("session of %q: %w", ses.User, err)
	}
	lastMove := ses.ExpiresAt.Add(-s.opts.IdleTimeout)
	if next := minTime(now.Add(s.opts.IdleTimeout), end); now.Sub(lastMove) >= refreshEvery && next.After(ses.ExpiresAt) {
		if err := s.touchSession(ctx, ses, next); err != nil {
			s.log.Error("session: move expiry", "user", ses.User, "error", err)
		}
	}
	return Principal{Name: u.Name, Role: string(u.Role), CSRF: csrfToken(id)}, true, nil
}

func (s *Service) endSession(ctx context.Context, w http.ResponseWriter, idHash string) error {
	s.clearCookie(w)
	if err := s.st.DeleteSession(ctx, idHash); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// lookupSession returns a session by the hash of its id. When there is
// none it waits for a refresh of that session this Service may be doing
// (between its delete and its create) and looks again.
func (s *Service) lookupSession(ctx context.Context, idHash string) (store.Session, error) {
	ses, err := s.st.Session(ctx, idHash)
	if !errors.Is(err, store.ErrNotFound) {
		return ses, err
	}
	if _, ok := s.st.(sessionToucher); ok {
		return ses, err
	}
	s.refreshMu.Lock()
	done, busy := s.refreshing[idHash]
	s.refreshMu.Unlock()
	if busy {
		select {
		case <-done:
		case <-ctx.Done():
			return store.Session{}, ctx.Err()
		}
	}
	// Look again even when no refresh is under way: one may have ended
	// between the first look and now.
	return s.st.Session(ctx, idHash)
}

// touchSession moves a session's expiry.
func (s *Service) touchSession(ctx context.Context, ses store.Session, expires time.Time) error {
	if t, ok := s.st.(sessionToucher); ok {
		return t.TouchSession(ctx, ses.IDHash, expires)
	}
	s.refreshMu.Lock()
	if _, busy := s.refreshing[ses.IDHash]; busy {
		s.refreshMu.Unlock()
		return nil // another request is moving it
	}
	done := make(chan struct{})
	s.refreshing[ses.IDHash] = done
	s.refreshMu.Unlock()
	defer func() {
		s.refreshMu.Lock()
		delete(s.refreshing, ses.IDHash)
		s.refreshMu.Unlock()
		close(done)
	}()
	ses.ExpiresAt = expires
	// The request's cancellation must not leave the session deleted.
	ctx = context.WithoutCancel(ctx)
	if err := s.st.DeleteSession(ctx, ses.IDHash); err != nil {
		return err
	}
	return s.st.CreateSession(ctx, ses)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// checkCSRF reports whether an unsafe request of a session carries the
// session's CSRF token, in the X-CSRF-Token header or the "csrf" form
// field.
func checkCSRF(r *http.Request, p Principal) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && p.CSRF != "" && subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRF)) == 1
}
