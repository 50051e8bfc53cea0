package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"vaultwatch/internal/alert"
)

// Limits are how many notifications one recipient gets a UTC day, by the
// alert's severity (an unknown severity counts as high). A severity
// missing from the map is not limited; 0 holds every alert of that
// severity for the digest.
type Limits map[alert.Severity]int

// DefaultLimits are Microsoft Defender's: 4 high, 2 medium and 1 low alert
// a day per address.
func DefaultLimits() Limits {
	return Limits{alert.SeverityHigh: 4, alert.SeverityMedium: 2, alert.SeverityLow: 1}
}

// Defaults of RateLimiter.
const (
	DefaultDigestEvery = time.Hour
	DefaultMaxHeld     = 500
)

// RateLimiter bounds the notifications each recipient gets per severity
// and UTC day. An alert over the limit is not dropped: it is held for the
// recipient's next digest.
//
// Digest policy: a recipient's held alerts are due as one digest once the
// oldest of them has been held DigestEvery (an hour by default), or once
// the UTC day it was held on has ended, whichever comes first; so a
// recipient gets at most one digest an hour, plus one at the end of a
// day. Digests do not count against the limits. At most MaxHeld alerts
// are held per recipient; past that the oldest is dropped and counted in
// the digest (Digest.Dropped).
//
// The state (counts of the day, held alerts) is plain data: Save and Load
// let an outbox persist it. Held alerts keep what a digest line shows (id,
// type, title, severity, window, vault, entities, count), not their
// evidence or playbook. Safe for concurrent use.
type RateLimiter struct {
	mu          sync.Mutex
	limits      Limits
	digestEvery time.Duration
	maxHeld     int
	st          RateState
}

// RateState is the RateLimiter's saved form.
type RateState struct {
	// Day is the UTC day the counts are for, "2006-01-02".
	Day string `json:"day"`
	// Sent counts the notifications sent on Day, by recipient and severity.
	Sent map[string]map[alert.Severity]int `json:"sent"`
	// Held are the alerts waiting for a digest, by recipient.
	Held map[string]*Held `json:"held"`
}

// Held are the alerts held for one recipient's digest.
type Held struct {
	Since   time.Time     `json:"since"` // when the oldest was held
	Alerts  []alert.Alert `json:"alerts"`
	Dropped int           `json:"dropped,omitempty"` // held alerts dropped over MaxHeld
}

// Digest is the alerts held for one recipient, due now.
type Digest struct {
	Recipient string
	Alerts    []alert.Alert
	Dropped   int // alerts held but dropped over MaxHeld
}

// ID returns a stable idempotency key for the digest: a hash of its
// recipient and alert ids.
func (d Digest) ID() string {
	h := sha256.New()
	h.Write([]byte(d.Recipient))
	for _, a := range d.Alerts {
		h.Write([]byte{0})
		h.Write([]byte(a.ID))
	}
	return "digest-" + hex.EncodeToString(h.Sum(nil))[:24]
}

// NewRateLimiter returns a RateLimiter with limits (DefaultLimits when
// nil), digests every digestEvery (DefaultDigestEvery when <= 0) and at
// most maxHeld alerts held per recipient (DefaultMaxHeld when <= 0).
func NewRateLimiter(limits Limits, digestEvery time.Duration, maxHeld int) *RateLimiter {
	if limits == nil {
		limits = DefaultLimits()
	}
	if digestEvery <= 0 {
		digestEvery = DefaultDigestEvery
	}
	if maxHeld <= 0 {
		maxHeld = DefaultMaxHeld
	}
	return &RateLimiter{limits: limits, digestEvery: digestEvery, maxHeld: maxHeld, st: emptyState("")}
}

func emptyState(day string) RateState {
	return RateState{Day: day, Sent: map[string]map[alert.Severity]int{}, Held: map[string]*Held{}}
}

func limitKey(s alert.Severity) alert.Severity {
	switch s {
	case alert.SeverityLow, alert.SeverityMedium:
		return s
	}
	return alert.SeverityHigh
}

// Allow reports whether a may be sent to recipient now, and counts it
// when it may. When it may not, a is held for the recipient's digest.
func (r *RateLimiter) Allow(recipient string, a alert.Alert, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rollover(now)
	sev := limitKey(a.Severity)
	limit, limited := r.limits[sev]
	sent := r.st.Sent[recipient]
	if !limited || sent[sev] < limit {
		if sent == nil {
			sent = map[alert.Severity]int{}
			r.st.Sent[recipient] = sent
		}
		sent[sev]++
		return true
	}
	h := r.st.Held[recipient]
	if h == nil {
		h = &Held{Since: now.UTC()}
		r.st.Held[recipient] = h
	}
	if len(h.Alerts) >= r.maxHeld {
		h.Alerts = slices.Delete(h.Alerts, 0, 1)
		h.Dropped++
	}
	h.Alerts = append(h.Alerts, slim(a))
	return false
}

// rollover starts a new day's counts when now is on another UTC day.
func (r *RateLimiter) rollover(now time.Time) {
	day := now.UTC().Format(time.DateOnly)
	if r.st.Day != day {
		r.st.Day = day
		r.st.Sent = map[string]map[alert.Severity]int{}
	}
}

// slim keeps what a digest line shows.
func slim(a alert.Alert) alert.Alert {
	return alert.Alert{
		ID: a.ID, Type: a.Type, Title: a.Title, Severity: a.Severity,
		StartTime: a.StartTime, EndTime: a.EndTime, Vault: a.Vault, Vaults: a.Vaults,
		Entities: a.Entities, Count: a.Count, Sample: a.Sample,
	}
}

// Digests returns the digests due at now (see RateLimiter's policy) and
// forgets their alerts, by recipient name. The caller turns each into a
// Notification with Digest set and ID Digest.ID().
func (r *RateLimiter) Digests(now time.Time) []Digest {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rollover(now)
	var out []Digest
	for rcpt, h := range r.st.Held {
		dayEnd := time.Date(h.Since.Year(), h.Since.Month(), h.Since.Day()+1, 0, 0, 0, 0, time.UTC)
		if now.Sub(h.Since) < r.digestEvery && now.Before(dayEnd) {
			continue
		}
		out = append(out, Digest{Recipient: rcpt, Alerts: h.Alerts, Dropped: h.Dropped})
		delete(r.st.Held, rcpt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Recipient < out[j].Recipient })
	return out
}

// Save returns the state as JSON.
func (r *RateLimiter) Save() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return json.Marshal(r.st)
}

// Load replaces the state with one Save returned.
func (r *RateLimiter) Load(b []byte) error {
	st := emptyState("")
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("rate limiter state: %w", err)
	}
	if st.Sent == nil {
		st.Sent = map[string]map[alert.Severity]int{}
	}
	if st.Held == nil {
		st.Held = map[string]*Held{}
	}
	for rcpt, h := range st.Held {
		if h == nil {
			delete(st.Held, rcpt)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st = st
	return nil
}

// LimitSettings is the rate_limits block of the configuration file:
//
//	rate_limits: {high: 4, medium: 2, low: 1, digest_every: 1h, max_held: 500}
//
// A severity left out keeps its default (DefaultLimits); -1 lifts its
// limit; 0 sends every alert of it in digests only.
type LimitSettings struct {
	High        *int          `yaml:"high,omitempty" json:"high,omitempty"`
	Medium      *int          `yaml:"medium,omitempty" json:"medium,omitempty"`
	Low         *int          `yaml:"low,omitempty" json:"low,omitempty"`
	DigestEvery time.Duration `yaml:"digest_every,omitempty" json:"digest_every,omitempty"`
	MaxHeld     int           `yaml:"max_held,omitempty" json:"max_held,omitempty"`
}

// Validate reports every problem of the settings at once.
func (s LimitSettings) Validate() error {
	var errs []error
	for _, l := range []struct {
		name string
		v    *int
	}{{"high", s.High}, {"medium", s.Medium}, {"low", s.Low}} {
		if l.v != nil && *l.v < -1 {
			errs = append(errs, fmt.Errorf("rate_limits.%s: %d: want -1 (no limit), 0 or more", l.name, *l.v))
		}
	}
	if s.DigestEvery < 0 {
		errs = append(errs, fmt.Errorf("rate_limits.digest_every: %s is negative", s.DigestEvery))
	}
	if s.MaxHeld < 0 {
		errs = append(errs, fmt.Errorf("rate_limits.max_held: %d is negative", s.MaxHeld))
	}
	return errors.Join(errs...)
}

// RateLimiter returns the rate limiter the settings describe.
func (s LimitSettings) RateLimiter() *RateLimiter {
	limits := DefaultLimits()
	for sev, v := range map[alert.Severity]*int{alert.SeverityHigh: s.High, alert.SeverityMedium: s.Medium, alert.SeverityLow: s.Low} {
		switch {
		case v == nil:
		case *v < 0:
			delete(limits, sev)
		default:
			limits[sev] = *v
		}
	}
	return NewRateLimiter(limits, s.DigestEvery, s.MaxHeld)
}
