package store

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"vaultwatch/internal/event"
)

func TestStatusValid(t *testing.T) {
	for _, s := range Statuses() {
		if !s.Valid() {
			t.Errorf("%s is not valid", s)
		}
	}
	for _, s := range []Status{"", "closed", "Active"} {
		if s.Valid() {
			t.Errorf("%q is valid", s)
		}
	}
	if !StatusInProgress.Open() || StatusResolved.Open() {
		t.Error("Open")
	}
}

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		r            Role
		user, tokens bool
	}{
		{RoleViewer, true, true}, {RoleResponder, true, true}, {RoleAdmin, true, true},
		{RoleIngest, false, true}, {"", false, false}, {"root", false, false},
	} {
		if tc.r.Valid() != tc.user || tc.r.ValidToken() != tc.tokens {
			t.Errorf("%q: user %v token %v", tc.r, tc.r.Valid(), tc.r.ValidToken())
		}
	}
}

func TestRuleValidate(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		r    Rule
		ok   bool
	}{
		{"no matchers", Rule{}, true},
		{"every operator", Rule{Matchers: []Matcher{{"vault", "=", "kv"}, {"upn", "!=", ""}, {"type", "=~", "^unusual-"}, {"ip", "cidr", "2001:db8::/32"}}}, true},
		{"open end", Rule{StartsAt: t0}, true},
		{"end before start", Rule{StartsAt: t0, EndsAt: t0.Add(-time.Second)}, false},
		{"unknown operator", Rule{Matchers: []Matcher{{"vault", "==", "kv"}}}, false},
		{"no field", Rule{Matchers: []Matcher{{"", "=", "kv"}}}, false},
		{"bad regexp", Rule{Matchers: []Matcher{{"vault", "=~", "[a-"}}}, false},
		{"address, not a network", Rule{Matchers: []Matcher{{"ip", "cidr", "10.0.0.1"}}}, false},
	} {
		err := tc.r.Validate()
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	r := Rule{StartsAt: t0, EndsAt: t0.Add(-time.Hour), Matchers: []Matcher{{"", "=", ""}, {"ip", "cidr", "x"}}}
	if err := r.Validate(); err == nil || len(err.(interface{ Unwrap() []error }).Unwrap()) != 3 {
		t.Errorf("every problem is reported: %v", err)
	}
}

func TestPrincipal(t *testing.T) {
	for _, tc := range []struct {
		e    event.Event
		want string
	}{
		{event.Event{Caller: event.Caller{ObjectID: "oid", UPN: "u"}, IP: netip.MustParseAddr("10.0.0.1")}, "oid"},
		{event.Event{IP: netip.MustParseAddr("2001:db8::1")}, "ip:2001:db8::1"},
		{event.Event{Host: "AWS Internal"}, ""},
	} {
		if got := Principal(&tc.e); got != tc.want {
			t.Errorf("Principal = %q, want %q", got, tc.want)
		}
	}
}

func TestDenied(t *testing.T) {
	for o, want := range map[event.Outcome]bool{
		event.OutcomeDenied: true, event.OutcomeUnauthenticated: true,
		event.OutcomeSuccess: false, event.OutcomeNotFound: false, event.OutcomeError: false,
	} {
		if Denied(o) != want {
			t.Errorf("Denied(%s) = %v", o, !want)
		}
	}
}
