// Package store is where `vaultwatch serve` keeps what it knows: alerts with
// their status history, the detection engine's saved state, the sources'
// cursors, an index of recent access events for investigation, the
// suppression rules, and the users, sessions and API tokens of the web pages
// and the JSON API.
//
// Store is the contract; store/sqlite is the embedded implementation (the
// default) and store/storetest the conformance suite every implementation
// passes. Callers depend on Store only, so another database can take
// SQLite's place without touching them.
//
// Writes that belong together go in one Batch, committed in one transaction:
// the events a source read, the alerts they produced, the engine state after
// them and the source's cursor. After a crash either all of it is there or
// none, so a restarted source resumes exactly after the last committed
// batch: every event is indexed and alerted on once.
//
// No secret is stored in clear. Passwords, session ids, anti-forgery tokens
// and API tokens reach the store as hashes made by the caller, and are
// looked up by hash; the store never sees the values.
//
// Times are returned in UTC. Methods that find nothing return an error
// wrapping ErrNotFound; optimistic updates that lose a race return
// ErrConflict; creating what exists returns ErrExists; input the store
// refuses returns ErrInvalid. Match them with errors.Is.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// Errors returned, wrapped, by every Store.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("version conflict")
	ErrExists   = errors.New("already exists")
	ErrInvalid  = errors.New("invalid")
)

// DefaultRetention is how long the event index keeps events unless
// configured otherwise.
const DefaultRetention = 30 * 24 * time.Hour

// Store keeps vaultwatch's state. Every method is safe for concurrent use;
// reads run concurrently with a Commit and see either all of a batch or none
// of it.
type Store interface {
	// Commit writes b in one transaction: all of it or, on any error,
	// nothing. See Batch for what each part does.
	Commit(ctx context.Context, b *Batch) error
	// Cursors returns the cursors of a source (key -> value) as last
	// committed; an empty map when it has none.
	Cursors(ctx context.Context, source string) (map[string]string, error)
	// EngineState returns the engine state last committed, nil when none
	// was saved yet.
	EngineState(ctx context.Context) ([]byte, error)

	// Alert returns one alert; ErrNotFound when there is no such id.
	Alert(ctx context.Context, id string) (AlertRecord, error)
	// Alerts returns the alerts matching q, newest first (by start time,
	// then id, both descending), and how many match in all.
	Alerts(ctx context.Context, q AlertQuery) (AlertPage, error)
	// SetStatus changes an alert's status and appends c to its history.
	// When ifVersion is not 0 and the alert's Version is not ifVersion it
	// changes nothing and returns ErrConflict. The Version grows by one on
	// every change; UpdatedAt becomes c.At.
	SetStatus(ctx context.Context, id string, c StatusChange, ifVersion int) (AlertRecord, error)
	// History returns an alert's status changes, oldest first; ErrNotFound
	// when there is no such alert.
	History(ctx context.Context, id string) ([]StatusChange, error)
	// AlertCounts counts the alerts started in [from, to), by severity, in
	// buckets of the given length starting at from; every bucket is
	// returned, empty ones too.
	AlertCounts(ctx context.Context, from, to time.Time, bucket time.Duration) ([]CountPoint, error)

	// Events returns the indexed events matching q, newest first, at most
	// q.Limit of them, with a cursor to the next page.
	Events(ctx context.Context, q EventQuery) (EventPage, error)
	// PruneEvents removes the events that happened before the given time
	// from the index (and from Activity and TopCallers) and returns how
	// many it removed. The vault summaries' totals keep counting them.
	PruneEvents(ctx context.Context, before time.Time) (int64, error)
	// Prune removes what the store no longer keeps at now: events older
	// than its retention and expired sessions. A server calls it
	// periodically.
	Prune(ctx context.Context, now time.Time) (Pruned, error)
	// Vaults returns a summary of every vault an event was committed for,
	// ordered by provider, name and id.
	Vaults(ctx context.Context) ([]VaultSummary, error)
	// Activity counts a vault's indexed events in [from, to) in buckets of
	// the given length starting at from; every bucket is returned. An
	// empty vault counts every vault. Counts may be kept by the minute:
	// they are exact when from and bucket are whole minutes.
	Activity(ctx context.Context, vault string, from, to time.Time, bucket time.Duration) ([]ActivityPoint, error)
	// TopCallers returns the n principals with the most indexed events on
	// a vault (every vault when empty) in [from, to), most first.
	TopCallers(ctx context.Context, vault string, from, to time.Time, n int) ([]CallerCount, error)

	// CreateUser adds a user; ErrExists when the name is taken.
	CreateUser(ctx context.Context, u User) error
	// User returns a user by name; ErrNotFound when there is none.
	User(ctx context.Context, name string) (User, error)
	// Users returns every user, by name.
	Users(ctx context.Context) ([]User, error)
	// UpdateUser replaces a user's role, password hash and disabled flag;
	// ErrNotFound when there is no such user.
	UpdateUser(ctx context.Context, u User) error
	// DeleteUser removes a user and its sessions; ErrNotFound when there
	// is no such user. Its API tokens stay, to be revoked explicitly.
	DeleteUser(ctx context.Context, name string) error

	// CreateSession adds a session of an existing user (ErrNotFound
	// otherwise); ErrExists when the id hash is taken. A session always
	// expires: a zero ExpiresAt is ErrInvalid.
	CreateSession(ctx context.Context, s Session) error
	// Session returns a session by the hash of its id, expired or not: the
	// caller compares ExpiresAt with its clock. ErrNotFound when there is
	// none.
	Session(ctx context.Context, idHash string) (Session, error)
	// DeleteSession removes one session; removing a missing one is no
	// error (logging out twice is fine).
	DeleteSession(ctx context.Context, idHash string) error
	// TouchSession moves a session's expiry; ErrNotFound when there is
	// none.
	TouchSession(ctx context.Context, idHash string, expiresAt time.Time) error
	// DeleteSessions removes every session of a user.
	DeleteSessions(ctx context.Context, user string) error
	// PruneSessions removes the sessions expired at now.
	PruneSessions(ctx context.Context, now time.Time) error

	// CreateToken adds an API token; ErrExists when its id or hash is
	// taken.
	CreateToken(ctx context.Context, t APIToken) error
	// TokenByHash returns a token by the hash of its value, revoked or
	// not: the caller checks Revoked. ErrNotFound when there is none.
	TokenByHash(ctx context.Context, hash string) (APIToken, error)
	// Tokens returns every token, newest first.
	Tokens(ctx context.Context) ([]APIToken, error)
	// RevokeToken marks a token revoked; ErrNotFound when there is none.
	RevokeToken(ctx context.Context, id string) error
	// TouchToken records that a token was used at the given time (kept
	// only if later than the last use); ErrNotFound when there is none.
	TouchToken(ctx context.Context, id string, at time.Time) error

	// CreateRule adds a suppression rule with Version 1 and returns it as
	// stored; an empty ID is given a random one. ErrExists when the ID is
	// taken.
	CreateRule(ctx context.Context, r Rule) (Rule, error)
	// Rule returns a rule by id; ErrNotFound when there is none.
	Rule(ctx context.Context, id string) (Rule, error)
	// Rules returns every rule, newest first.
	Rules(ctx context.Context) ([]Rule, error)
	// UpdateRule replaces a rule's definition (type, matchers, reason,
	// comment, author, start, end, disabled, UpdatedAt) and returns it
	// with its Version grown by one. CreatedAt, Matches and LastMatched
	// are kept. When ifVersion is not 0 and the rule's Version is not
	// ifVersion it changes nothing and returns ErrConflict.
	UpdateRule(ctx context.Context, r Rule, ifVersion int) (Rule, error)

	// Close releases the store. Calls after Close fail.
	Close() error
}

// Batch is one unit of work, committed in one transaction. Parts are
// applied in this order: events, alerts, state, cursors.
type Batch struct {
	// Events are appended to the event index, and counted in the vault
	// summaries.
	Events []event.Event
	// Alerts are upserted by ID. A new ID is inserted with status active,
	// Version 1 and a first history entry {active, "vaultwatch", Now}. An
	// existing ID has its body replaced (an alert grows while its burst
	// lasts) and UpdatedAt set to Now; its status, Version and history
	// are kept.
	Alerts []*alert.Alert
	// Suppressed names, by alert ID, the suppression rule that muted an
	// alert of this batch. An alert newly muted by a rule counts as one
	// match of the rule (Matches, LastMatched = Now).
	Suppressed map[string]string
	// State is the engine state after this batch; nil leaves the saved
	// state unchanged. A large state need not go with every batch: one
	// saved every few batches only makes a restarted engine forget what
	// it learned from the batches since, never alert twice.
	State []byte
	// Cursors are upserted: where each source stands after this batch.
	Cursors []Cursor
	// Now is the time of the commit, required when Alerts is not empty.
	Now time.Time
}

// Cursor is a position a source keeps, by key (a file, a partition).
type Cursor struct {
	Source string // required
	Key    string
	Value  string
}

// Status is the state of an alert in its handling.
type Status string

// Alert statuses.
const (
	StatusActive     Status = "active"
	StatusInProgress Status = "in-progress"
	StatusDismissed  Status = "dismissed"
	StatusResolved   Status = "resolved"
)

// Statuses returns every status, in the order an alert is handled.
func Statuses() []Status {
	return []Status{StatusActive, StatusInProgress, StatusDismissed, StatusResolved}
}

// Valid reports whether s is one of the alert statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusActive, StatusInProgress, StatusDismissed, StatusResolved:
		return true
	}
	return false
}

// Open reports whether an alert in status s still needs attention.
func (s Status) Open() bool { return s == StatusActive || s == StatusInProgress }

// SystemActor is the StatusChange.By of the changes vaultwatch makes itself.
const SystemActor = "vaultwatch"

// AlertRecord is an alert with its handling.
type AlertRecord struct {
	Alert     alert.Alert `json:"alert"`
	Status    Status      `json:"status"`
	Version   int         `json:"version"` // grows on every status change
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
	StatusBy  string      `json:"status_by"` // who set the status last
	// SuppressedBy is the id of the suppression rule that muted the alert,
	// "" when none.
	SuppressedBy string `json:"suppressed_by,omitempty"`
}

// StatusChange is one entry of an alert's history.
type StatusChange struct {
	Status  Status    `json:"status"`
	By      string    `json:"by"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// AlertQuery selects alerts. Empty fields do not filter.
type AlertQuery struct {
	// Vault is a vault id: the alert's vault or one of its vaults.
	Vault    string
	Type     alert.Type
	Severity alert.Severity
	Status   Status
	// Entity matches any entity of the alert, ignoring ASCII case: an IP
	// address, object id, UPN, app id, or principal (Vault entity, ARN,
	// GCP principal, token accessor).
	Entity string
	// From and To select the alerts whose [start, end] overlaps [From,
	// To).
	From, To time.Time
	// SuppressedBy selects the alerts a suppression rule muted.
	SuppressedBy string
	// Unsuppressed selects the alerts no rule muted.
	Unsuppressed bool
	// Limit is the page size (default 100, at most 1000); Offset skips
	// that many.
	Limit, Offset int
}

// AlertPage is one page of alerts and the number of alerts matching in all.
type AlertPage struct {
	Alerts []AlertRecord `json:"alerts"`
	Total  int           `json:"total"`
}

// CountPoint is the number of alerts started in one bucket.
type CountPoint struct {
	Start      time.Time              `json:"start"`
	Total      int                    `json:"total"`
	BySeverity map[alert.Severity]int `json:"by_severity"`
}

// EventQuery selects indexed events. Empty fields do not filter; the
// identity fields ignore ASCII case.
type EventQuery struct {
	IP        string // the caller's address
	ObjectID  string // Entra object id
	UPN       string
	AppID     string
	Principal string // event.Caller.Principal(), or "ip:ADDRESS" for a caller known by address only
	Vault     string // vault id
	Object    string // object name (a secret, key or certificate)
	// From and To select events in [From, To).
	From, To time.Time
	// Limit is the page size (default 100, at most 1000).
	Limit int
	// Cursor is EventPage.Next of the previous page, "" for the first.
	Cursor string
}

// EventPage is one page of events and the cursor of the next, "" after the
// last.
type EventPage struct {
	Events []event.Event `json:"events"`
	Next   string        `json:"next,omitempty"`
}

// Principal returns the key the event index files an event's caller under:
// event.Caller.Principal(), or "ip:ADDRESS" when the caller has no other
// identity, or "" when it has none at all.
func Principal(e *event.Event) string {
	if p := e.Caller.Principal(); p != "" {
		return p
	}
	if e.IP.IsValid() {
		return "ip:" + e.IP.String()
	}
	return ""
}

// Denied reports whether an outcome counts as a denial in summaries.
func Denied(o event.Outcome) bool {
	return o == event.OutcomeDenied || o == event.OutcomeUnauthenticated
}

// VaultSummary is what is known of one vault.
type VaultSummary struct {
	Provider   event.Provider `json:"provider"`
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	FirstEvent time.Time      `json:"first_event"`
	LastEvent  time.Time      `json:"last_event"`
	Events     int64          `json:"events"`  // every event ever committed, pruned ones too
	Denials    int64          `json:"denials"` // of which denied or unauthenticated
	// OpenAlerts counts the alerts involving the vault that are active or
	// in progress and not suppressed, by severity.
	OpenAlerts map[alert.Severity]int `json:"open_alerts"`
}

// ActivityPoint is a vault's activity in one bucket.
type ActivityPoint struct {
	Start      time.Time             `json:"start"`
	Operations int64                 `json:"operations"`
	Denials    int64                 `json:"denials"` // denied or unauthenticated
	ByClass    map[event.Class]int64 `json:"by_class"`
}

// CallerCount is one principal's activity.
type CallerCount struct {
	Principal  string    `json:"principal"`
	Name       string    `json:"name,omitempty"` // a readable name seen for it (UPN, display name...)
	Operations int64     `json:"operations"`
	Denials    int64     `json:"denials"`
	Last       time.Time `json:"last"`
}

// Pruned counts what Prune removed.
type Pruned struct {
	Events   int64
	Sessions int64
}

// Role is what a user or token may do.
type Role string

// Roles. Ingest is for tokens only: a token that may only send events of
// its source.
const (
	RoleViewer    Role = "viewer"
	RoleResponder Role = "responder"
	RoleAdmin     Role = "admin"
	RoleIngest    Role = "ingest"
)

// Valid reports whether r is a role a user can have.
func (r Role) Valid() bool {
	return r == RoleViewer || r == RoleResponder || r == RoleAdmin
}

// ValidToken reports whether r is a role a token can have.
func (r Role) ValidToken() bool { return r.Valid() || r == RoleIngest }

// User is someone who signs in to the pages.
type User struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	// PasswordHash is the password hashed by the caller (bcrypt, argon2);
	// never the password.
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	Disabled     bool      `json:"disabled,omitempty"`
}

// Session is a signed-in browser.
type Session struct {
	// IDHash is a hash of the session id the browser holds; never the id.
	IDHash string `json:"-"`
	User   string `json:"user"`
	// CSRF is a hash of the session's anti-forgery token; never the token.
	CSRF      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// APIToken is a bearer token of the JSON API or of an ingest source.
type APIToken struct {
	ID   string `json:"id"` // public, shown in lists
	Name string `json:"name"`
	// Hash is a hash of the token's value; never the value.
	Hash      string `json:"-"`
	Role      Role   `json:"role"`
	CreatedBy string `json:"created_by"`
	// Source is the source an ingest token feeds, "" for other tokens.
	Source    string    `json:"source,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	Revoked   bool      `json:"revoked,omitempty"`
}

// Rule is a suppression rule: alerts of its type (any when empty) whose
// fields match every matcher are muted between StartsAt and EndsAt.
type Rule struct {
	ID       string     `json:"id"`
	Version  int        `json:"version"`
	Type     alert.Type `json:"type,omitempty"`
	Matchers []Matcher  `json:"matchers"`
	Reason   string     `json:"reason,omitempty"`
	Comment  string     `json:"comment,omitempty"`
	Author   string     `json:"author"`
	StartsAt time.Time  `json:"starts_at"`
	EndsAt   time.Time  `json:"ends_at,omitzero"` // zero: no expiry
	Disabled bool       `json:"disabled,omitempty"`

	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	LastMatched time.Time `json:"last_matched,omitzero"`
	Matches     int       `json:"matches"`
}

// Matcher operators.
const (
	OpEqual    = "="
	OpNotEqual = "!="
	OpRegexp   = "=~"
	OpCIDR     = "cidr"
)

// Matcher compares one alert field with a value.
type Matcher struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value string `json:"value"`
}

// Validate checks the matcher's shape: a field, a known operator, a regular
// expression that compiles, a CIDR that parses.
func (m Matcher) Validate() error {
	if m.Field == "" {
		return fmt.Errorf("matcher has no field: %w", ErrInvalid)
	}
	switch m.Op {
	case OpEqual, OpNotEqual:
	case OpRegexp:
		if _, err := regexp.Compile(m.Value); err != nil {
			return fmt.Errorf("matcher %s: %w: %w", m.Field, ErrInvalid, err)
		}
	case OpCIDR:
		if _, err := netip.ParsePrefix(m.Value); err != nil {
			return fmt.Errorf("matcher %s: %w: %w", m.Field, ErrInvalid, err)
		}
	default:
		return fmt.Errorf("matcher %s: unknown operator %q: %w", m.Field, m.Op, ErrInvalid)
	}
	return nil
}

// Validate checks a rule's definition: its matchers, and an end after its
// start.
func (r *Rule) Validate() error {
	var errs []error
	for i, m := range r.Matchers {
		if err := m.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("matcher %d: %w", i+1, err))
		}
	}
	if !r.EndsAt.IsZero() && r.EndsAt.Before(r.StartsAt) {
		errs = append(errs, fmt.Errorf("rule ends (%s) before it starts (%s): %w",
			r.EndsAt.UTC().Format(time.RFC3339), r.StartsAt.UTC().Format(time.RFC3339), ErrInvalid))
	}
	return errors.Join(errs...)
}
