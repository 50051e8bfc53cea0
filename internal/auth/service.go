package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"vaultwatch/internal/store"
)

// RoleIngest is the role of a token that may only send the events of its
// source (Principal.Source). It ranks below every user role: Allows
// refuses it everything else.
const RoleIngest = string(store.RoleIngest)

// AdminUser is the name of the user EnsureAdmin creates.
const AdminUser = "admin"

// Defaults of Options.
const (
	DefaultSessionTTL   = 12 * time.Hour
	DefaultIdleTimeout  = time.Hour
	DefaultLoginLimit   = 5
	DefaultLoginWindow  = 15 * time.Minute
	DefaultCookieName   = "vaultwatch_session"
	defaultIPLimitRatio = 4 // DefaultIPLoginLimit = defaultIPLimitRatio * LoginLimit
)

// maxHashing bounds the password hashes computed at once (each takes
// argonMemory KiB); more logins wait for a turn.
const maxHashing = 4

// maxUserName bounds a user name, in bytes.
const maxUserName = 64

// Errors of the Service, matched with errors.Is.
var (
	// ErrBadCredentials is a login with an unknown user name or a wrong
	// password: the caller is not told which.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrDisabled is a login with the right password of a disabled user.
	ErrDisabled = errors.New("user is disabled")
	// ErrRateLimited is a login refused without checking the password
	// because of earlier failures; the error is a *RateLimitError.
	ErrRateLimited = errors.New("too many failed logins")
	// ErrCrossOrigin is an unsafe request another site made a browser
	// send.
	ErrCrossOrigin = errors.New("cross-origin request refused")
	// ErrInvalid is an argument the Service refuses (a bad user name,
	// role or source); it wraps store.ErrInvalid too.
	ErrInvalid = fmt.Errorf("auth: %w", store.ErrInvalid)
)

// RateLimitError is a login refused by the rate limit. It matches
// ErrRateLimited.
type RateLimitError struct {
	// RetryAfter is how long until a login may be tried again.
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: try again in %s", ErrRateLimited, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Options configures a Service. Zero fields take the defaults above.
type Options struct {
	// Clock is the time of "now" (default time.Now).
	Clock func() time.Time
	// SessionTTL is the longest a session lasts after login (default 12h).
	SessionTTL time.Duration
	// IdleTimeout ends a session not used for that long (default 1h). It
	// slides: a request moves the session's expiry to now+IdleTimeout
	// (never past login+SessionTTL), at most once a minute.
	IdleTimeout time.Duration
	// SecureCookies marks the session cookie Secure; set it when serving
	// TLS (or behind a proxy that does).
	SecureCookies bool
	// Logger gets logins, failures, refusals and store errors (default:
	// discarded). No password, token or session id is ever logged.
	Logger *slog.Logger
	// LoginLimit is how many failed logins of one user name from one
	// address are allowed within LoginWindow before logins are refused
	// with 429 (default 5).
	LoginLimit int
	// LoginWindow is the sliding window of the login limits (default 15m).
	LoginWindow time.Duration
	// IPLoginLimit is how many failed logins from one address (an IPv6
	// /64), whatever the user name, are allowed within LoginWindow
	// (default 4 × LoginLimit).
	IPLoginLimit int
	// CookieName is the session cookie's name (default
	// "vaultwatch_session").
	CookieName string
}

// Service authenticates the users of the pages and the callers of the API:
// it hashes and checks passwords, opens and closes sessions, makes and
// checks API tokens, and provides the HTTP middleware that puts the caller
// in each request's context. It is safe for concurrent use.
type Service struct {
	st      store.Store
	opts    Options
	log     *slog.Logger
	limit   *limiter
	cop     *http.CrossOriginProtection
	hashing chan struct{} // semaphore of password hashes

	dummy string // hash of a random password, checked for unknown users

	refreshMu  sync.Mutex
	refreshing map[string]chan struct{} // session id hash -> closed when its refresh ends

	verified atomic.Int64 // password checks done, unknown users included
}

// New returns a Service over st.
func New(st store.Store, opts Options) *Service {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LoginLimit <= 0 {
		opts.LoginLimit = DefaultLoginLimit
	}
	if opts.LoginWindow <= 0 {
		opts.LoginWindow = DefaultLoginWindow
	}
	if opts.IPLoginLimit <= 0 {
		opts.IPLoginLimit = defaultIPLimitRatio * opts.LoginLimit
	}
	if opts.CookieName == "" {
		opts.CookieName = DefaultCookieName
	}
	// The dummy hash is made now, so that the first login of an unknown
	// user takes no longer than any other.
	dummy, err := hashPassword(rand.Text())
	if err != nil {
		// crypto/rand never fails; keep a well-formed hash of the same cost.
		dummy = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	}
	return &Service{
		st:      st,
		opts:    opts,
		log:     opts.Logger.With("component", "auth"),
		limit:   newLimiter(opts.LoginWindow, opts.LoginLimit, opts.IPLoginLimit),
		cop:     http.NewCrossOriginProtection(),
		hashing: make(chan struct{}, maxHashing),
		dummy:   dummy,

		refreshing: map[string]chan struct{}{},
	}
}

func (s *Service) now() time.Time { return s.opts.Clock().UTC() }

// withHashing runs f when a hashing slot is free.
func (s *Service) withHashing(ctx context.Context, f func()) error {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashing }()
	f()
	return nil
}

func (s *Service) hash(ctx context.Context, password string) (string, error) {
	var (
		h   string
		err error
	)
	if werr := s.withHashing(ctx, func() { h, err = hashPassword(password) }); werr != nil {
		return "", werr
	}
	return h, err
}

func (s *Service) verify(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	if werr := s.withHashing(ctx, func() { ok, rehash, err = verifyPassword(encoded, password) }); werr != nil {
		return false, false, werr
	}
	s.verified.Add(1)
	return ok, rehash, err
}

// checkUserName refuses empty names, names longer than 64 bytes and names
// with spaces or control characters.
func checkUserName(name string) error {
	if name == "" {
		return fmt.Errorf("user name is empty: %w", ErrInvalid)
	}
	if len(name) > maxUserName {
		return fmt.Errorf("user name longer than %d bytes: %w", maxUserName, ErrInvalid)
	}
	if strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar }) {
		return fmt.Errorf("user name %q holds a space or a control character: %w", name, ErrInvalid)
	}
	return nil
}

// CreateUser adds a user with a role (RoleViewer, RoleResponder or
// RoleAdmin) and a password of at least MinPasswordLength characters.
// Errors wrap ErrInvalid for a bad name or role, ErrWeakPassword, and
// store.ErrExists when the name is taken.
func (s *Service) CreateUser(ctx context.Context, name, role, password string) error {
	if err := checkUserName(name); err != nil {
		return err
	}
	if !ValidRole(role) {
		return fmt.Errorf("user %q: unknown role %q: %w", name, role, ErrInvalid)
	}
	if err := checkPassword(password); err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	h, err := s.hash(ctx, password)
	if err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	u := store.User{Name: name, Role: store.Role(role), PasswordHash: h, CreatedAt: s.now()}
	if err := s.st.CreateUser(ctx, u); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	s.log.Info("user created", "user", name, "role", role)
	return nil
}

// SetPassword replaces a user's password and ends every session of the
// user (the browser that changed it logs in again). Errors wrap
// ErrWeakPassword and store.ErrNotFound.
func (s *Service) SetPassword(ctx context.Context, name, password string) error {
	if err := checkPassword(password); err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	u, err := s.st.User(ctx, name)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if u.PasswordHash, err = s.hash(ctx, password); err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := s.st.DeleteSessions(ctx, name); err != nil {
		return fmt.Errorf("set password of %q: end sessions: %w", name, err)
	}
	s.log.Info("password changed", "user", name)
	return nil
}

// Authenticate checks a user's password, for a login from ip. It returns
// the user, or an error wrapping ErrBadCredentials (unknown user or wrong
// password: the password is checked against a dummy hash for an unknown
// user, so both take the same time), ErrDisabled (right password, disabled
// user) or ErrRateLimited (a *RateLimitError: too many failures of the name
// from ip, or from ip, within the login window; the password is not
// checked). Every failure counts towards the limits; a success forgets the
// failures of the name from ip. A hash made with older parameters is made
// again.
func (s *Service) Authenticate(ctx context.Context, name, password string, ip netip.Addr) (store.User, error) {
	now := s.now()
	if wait := s.limit.wait(name, ip, now); wait > 0 {
		s.log.Warn("login refused: rate limit", "user", name, "ip", ip, "retry_after", wait.Round(time.Second).String())
		return store.User{}, &RateLimitError{RetryAfter: wait}
	}
	var (
		u   store.User
		err = fmt.Errorf("user name too long: %w", store.ErrNotFound)
	)
	if len(name) <= maxUserName {
		u, err = s.st.User(ctx, name)
	}
	hash := u.PasswordHash
	switch {
	case errors.Is(err, store.ErrNotFound):
		hash = s.dummy
	case err != nil:
		return store.User{}, fmt.Errorf("login of %q: %w", name, err)
	}
	ok, rehash, verr := s.verify(ctx, hash, password)
	if verr != nil && ctx.Err() != nil {
		return store.User{}, fmt.Errorf("login of %q: %w", name, verr)
	}
	if verr != nil {
		s.log.Error("login: stored password hash unreadable", "user", name, "error", verr)
	}
	if err != nil || !ok {
		s.limit.fail(name, ip, now)
		s.log.Warn("login failed", "user", name, "ip", ip)
		return store.User{}, fmt.Errorf("login of %q: %w", name, ErrBadCredentials)
	}
	if u.Disabled {
		s.limit.fail(name, ip, now)
		s.log.Warn("login refused: user disabled", "user", name, "ip", ip)
		return store.User{}, fmt.Errorf("login of %q: %w", name, ErrDisabled)
	}
	s.limit.succeed(name, ip)
	if rehash {
		if h, herr := s.hash(ctx, password); herr == nil {
			u.PasswordHash = h
			if uerr := s.st.UpdateUser(ctx, u); uerr != nil {
				s.log.Error("login: rehash password", "user", name, "error", uerr)
			}
		}
	}
	return u, nil
}

// EnsureAdmin creates the first user when the store has none: "admin",
// with the role admin and envPassword (the VAULTWATCH_ADMIN_PASSWORD
// environment variable, read by the caller) as its password, or, when
// envPassword is empty, a random password written once to out, never
// logged:
//
//	first start: log in as admin with password ...
//
// When users exist it does nothing (envPassword is ignored). When out
// cannot be written the new user is removed again, so that the next start
// makes another.
func (s *Service) EnsureAdmin(ctx context.Context, envPassword string, out io.Writer) error {
	users, err := s.st.Users(ctx)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if len(users) > 0 {
		if envPassword != "" {
			s.log.Info("VAULTWATCH_ADMIN_PASSWORD ignored: users exist")
		}
		return nil
	}
	if envPassword != "" {
		if err := checkPassword(envPassword); err != nil {
			return fmt.Errorf("first admin: VAULTWATCH_ADMIN_PASSWORD: %w", err)
		}
		if err := s.CreateUser(ctx, AdminUser, RoleAdmin, envPassword); err != nil && !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("first admin: %w", err)
		}
		return nil
	}
	password := rand.Text() // 26 base32 characters, 130 bits
	if err := s.CreateUser(ctx, AdminUser, RoleAdmin, password); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil // another process made it first
		}
		return fmt.Errorf("first admin: %w", err)
	}
	if _, err := fmt.Fprintf(out, "first start: log in as %s with password %s\n", AdminUser, password); err != nil {
		if derr := s.st.DeleteUser(ctx, AdminUser); derr != nil {
			return fmt.Errorf("first admin: the password could not be shown (%w) and the user could not be removed: %w", err, derr)
		}
		return fmt.Errorf("first admin: show the password: %w", err)
	}
	return nil
}

// randomToken returns n random bytes in unpadded base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
