// Package auth is who may use vaultwatch: local users with roles, session
// cookies with CSRF protection for the pages, hashed API tokens for
// machines, login rate limiting and the security headers every response
// carries. Handlers behind its middleware find the caller in the request's
// context.
package auth

import "context"

// Roles, least privileged first.
const (
	RoleViewer    = "viewer"    // reads alerts, pages and events
	RoleResponder = "responder" // also changes alert status, creates suppression rules
	RoleAdmin     = "admin"     // also manages users, tokens and settings
)

// rank orders roles; unknown roles rank below every known one.
func rank(role string) int {
	switch role {
	case RoleViewer:
		return 1
	case RoleResponder:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// ValidRole reports whether role is one of the roles above.
func ValidRole(role string) bool { return rank(role) > 0 }

// Allows reports whether role has at least the privileges of need.
func Allows(role, need string) bool { return rank(role) > 0 && rank(role) >= rank(need) }

// Principal is the authenticated caller of a request.
type Principal struct {
	Name string // user name, or "token:<name>" for an API token
	Role string
	// Token is set when the caller used an API token rather than a session.
	Token bool
	// Source is the ingest source an ingest token is bound to, else "".
	Source string
	// CSRF is the session's CSRF token, to put in every form; "" for tokens.
	CSRF string
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal ctx carries.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
