// Package suppress decides which alerts a suppression rule silences. A
// rule is like an Alertmanager silence: an alert type (or any), matchers on
// the alert's fields and entities, a start and an optional end, an author,
// a reason and a comment. Rules are evaluated when an alert is made (and
// every time it grows), so the pages show "suppressed by rule X" at once;
// a silenced alert is stored dismissed, never deleted.
package suppress

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/store"
)

// States of a rule, derived from time and its flag.
const (
	StateEnabled  = "enabled"  // in force
	StatePending  = "pending"  // starts later
	StateExpired  = "expired"  // ended
	StateDisabled = "disabled" // turned off by hand
)

// Reasons a rule gives, as Defender's suppression rules do.
const (
	ReasonFalsePositive  = "false-positive"
	ReasonBenignPositive = "benign-positive"
	ReasonOther          = "other"
)

// ValidReason reports whether r is one of the reasons.
func ValidReason(r string) bool {
	return r == ReasonFalsePositive || r == ReasonBenignPositive || r == ReasonOther
}

// State is a rule's state at now.
func State(r *store.Rule, now time.Time) string {
	switch {
	case r.Disabled:
		return StateDisabled
	case !r.EndsAt.IsZero() && !now.Before(r.EndsAt):
		return StateExpired
	case now.Before(r.StartsAt):
		return StatePending
	}
	return StateEnabled
}

// Fields are the alert fields a matcher may name, and what each reads.
var Fields = map[string]string{
	"vault":          "the vault's id or name",
	"vault_id":       "the vault's id",
	"vault_name":     "the vault's name",
	"provider":       "the vault's provider (azure-keyvault, hashicorp-vault, ...)",
	"type":           "the alert type",
	"severity":       "the alert's severity",
	"ip":             "any address of the alert (use cidr for ranges)",
	"object_id":      "any Entra object id",
	"upn":            "any user principal name",
	"app_id":         "any application id",
	"display_name":   "any display name",
	"vault_entity":   "any Vault entity id",
	"arn":            "any AWS principal ARN",
	"principal":      "any caller id: object id, UPN, app id, Vault entity, ARN or GCP e-mail",
	"user_agent":     "any user agent",
	"object":         "any secret, key or certificate touched",
	"classification": "any address classification (tor, cloud:azure, country:DE, ...)",
}

// values returns the alert's values of a field.
func values(a *alert.Alert, field string) []string {
	e := &a.Entities
	switch field {
	case "vault":
		out := []string{a.Vault.ID, a.Vault.Name}
		for _, v := range a.Vaults {
			out = append(out, v.ID, v.Name)
		}
		return out
	case "vault_id":
		return []string{a.Vault.ID}
	case "vault_name":
		return []string{a.Vault.Name}
	case "provider":
		return []string{a.Vault.Provider}
	case "type":
		return []string{string(a.Type)}
	case "severity":
		return []string{string(a.Severity)}
	case "ip":
		out := make([]string, len(e.IPs))
		for i, ip := range e.IPs {
			out[i] = ip.Address
		}
		return out
	case "classification":
		var out []string
		for _, ip := range e.IPs {
			out = append(out, ip.Classification...)
		}
		return out
	case "object_id":
		return e.ObjectIDs
	case "upn":
		return e.UPNs
	case "app_id":
		return e.AppIDs
	case "display_name":
		return e.DisplayNames
	case "vault_entity":
		return e.VaultEntities
	case "arn":
		return e.ARNs
	case "user_agent":
		return e.UserAgents
	case "principal":
		return slices.Concat(e.ObjectIDs, e.UPNs, e.AppIDs, e.VaultEntities, e.ARNs, e.Principals)
	case "object":
		out := make([]string, len(a.Evidence.Objects))
		for i, o := range a.Evidence.Objects {
			out[i] = o.Name
		}
		return out
	}
	return nil
}

// matcher is a compiled store.Matcher.
type matcher struct {
	field, op, value string
	re               *regexp.Regexp
	prefix           netip.Prefix
}

func compileMatcher(m store.Matcher) (matcher, error) {
	if _, ok := Fields[m.Field]; !ok {
		return matcher{}, fmt.Errorf("unknown field %q: %w", m.Field, store.ErrInvalid)
	}
	c := matcher{field: m.Field, op: m.Op, value: m.Value}
	switch m.Op {
	case store.OpEqual, store.OpNotEqual:
	case store.OpRegexp:
		re, err := regexp.Compile("(?i)^(?:" + m.Value + ")$") // anchored as Alertmanager's; case-insensitive as = is
		if err != nil {
			return matcher{}, fmt.Errorf("field %s: %w: %w", m.Field, store.ErrInvalid, err)
		}
		c.re = re
	case store.OpCIDR:
		if m.Field != "ip" {
			return matcher{}, fmt.Errorf("field %s: cidr applies to ip only: %w", m.Field, store.ErrInvalid)
		}
		p, err := netip.ParsePrefix(m.Value)
		if err != nil {
			return matcher{}, fmt.Errorf("field ip: %w: %w", store.ErrInvalid, err)
		}
		c.prefix = p.Masked()
	default:
		return matcher{}, fmt.Errorf("field %s: unknown operator %q: %w", m.Field, m.Op, store.ErrInvalid)
	}
	return c, nil
}

// match reports whether the alert satisfies the matcher. For fields with
// several values: = and =~ need one value to match, != needs none to be
// equal, cidr needs one address inside. Comparisons ignore case (ids and
// addresses are case-insensitive); regular expressions match whole values.
func (m *matcher) match(a *alert.Alert) bool {
	vs := values(a, m.field)
	switch m.op {
	case store.OpEqual:
		return slices.ContainsFunc(vs, func(v string) bool { return strings.EqualFold(v, m.value) })
	case store.OpNotEqual:
		return !slices.ContainsFunc(vs, func(v string) bool { return strings.EqualFold(v, m.value) })
	case store.OpRegexp:
		return slices.ContainsFunc(vs, m.re.MatchString)
	case store.OpCIDR:
		return slices.ContainsFunc(vs, func(v string) bool {
			ip, err := netip.ParseAddr(v)
			return err == nil && m.prefix.Contains(ip.Unmap())
		})
	}
	return false
}

// Rule is a compiled rule.
type Rule struct {
	store.Rule
	matchers []matcher
}

// Compile checks a rule and prepares its matchers.
func Compile(r store.Rule) (*Rule, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.Reason != "" && !ValidReason(r.Reason) {
		return nil, fmt.Errorf("reason %q: want false-positive, benign-positive or other: %w", r.Reason, store.ErrInvalid)
	}
	if r.Type != "" {
		if _, ok := alert.Lookup(r.Type); !ok {
			return nil, fmt.Errorf("unknown alert type %q: %w", r.Type, store.ErrInvalid)
		}
	}
	if len(r.Matchers) == 0 && r.Type == "" {
		return nil, fmt.Errorf("a rule needs an alert type or a matcher: it would silence every alert: %w", store.ErrInvalid)
	}
	c := &Rule{Rule: r}
	for _, m := range r.Matchers {
		cm, err := compileMatcher(m)
		if err != nil {
			return nil, err
		}
		c.matchers = append(c.matchers, cm)
	}
	return c, nil
}

// Matches reports whether the rule, whatever its state, matches the alert.
func (r *Rule) Matches(a *alert.Alert) bool {
	if r.Type != "" && r.Type != a.Type {
		return false
	}
	for i := range r.matchers {
		if !r.matchers[i].match(a) {
			return false
		}
	}
	return true
}

// Set is the rules in force, compiled, safe to read concurrently once made.
type Set struct {
	rules []*Rule
}

// NewSet compiles rules; a rule that does not compile is returned in the
// error and left out, the others kept.
func NewSet(rules []store.Rule) (*Set, error) {
	s := &Set{}
	var errs []string
	for _, r := range rules {
		c, err := Compile(r)
		if err != nil {
			errs = append(errs, fmt.Sprintf("rule %s: %v", r.ID, err))
			continue
		}
		s.rules = append(s.rules, c)
	}
	slices.SortStableFunc(s.rules, func(x, y *Rule) int {
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	if len(errs) > 0 {
		return s, fmt.Errorf("suppression rules left out: %s", strings.Join(errs, "; "))
	}
	return s, nil
}

// Match returns the first rule in force at now that matches the alert,
// the oldest rule (by creation) first, or nil.
func (s *Set) Match(a *alert.Alert, now time.Time) *Rule {
	if s == nil {
		return nil
	}
	for _, r := range s.rules {
		if State(&r.Rule, now) == StateEnabled && r.Matches(a) {
			return r
		}
	}
	return nil
}

// Len is the number of rules in the set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rules)
}

// Simulate returns the alerts the rule would have silenced among alerts,
// ignoring its state: what saving it would have done to the past.
func Simulate(r *Rule, alerts []alert.Alert) []alert.Alert {
	var out []alert.Alert
	for i := range alerts {
		if r.Matches(&alerts[i]) {
			out = append(out, alerts[i])
		}
	}
	return out
}

// FromAlert is the rule a user starts from on an alert's page: its type,
// its vault, and its caller's identities, each as an equality matcher.
func FromAlert(a *alert.Alert) store.Rule {
	r := store.Rule{Type: a.Type, Matchers: []store.Matcher{{Field: "vault_id", Op: store.OpEqual, Value: a.Vault.ID}}}
	e := &a.Entities
	add := func(field string, vs []string) {
		if len(vs) > 0 {
			r.Matchers = append(r.Matchers, store.Matcher{Field: field, Op: store.OpEqual, Value: vs[0]})
		}
	}
	add("object_id", e.ObjectIDs)
	add("app_id", e.AppIDs)
	add("upn", e.UPNs)
	add("vault_entity", e.VaultEntities)
	add("arn", e.ARNs)
	if len(e.IPs) > 0 {
		r.Matchers = append(r.Matchers, store.Matcher{Field: "ip", Op: store.OpEqual, Value: e.IPs[0].Address})
	}
	return r
}
