// Package storetest is the conformance suite of store.Store: every
// implementation runs Run against real storage and passes it.
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
	"vaultwatch/internal/store"
)

// t0 is the time the suite's data starts at.
var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// T0 returns the time the suite's data starts at: Ev(0, ...) happens then.
func T0() time.Time { return t0 }

// Run runs the suite. open returns a new, empty store with the default
// retention for each test, and closes it when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CommitRoundTrip", testCommitRoundTrip},
		{"LargeBatch", testLargeBatch},
		{"BatchAtomic", testBatchAtomic},
		{"BatchValidation", testBatchValidation},
		{"AlertUpsertKeepsStatus", testAlertUpsert},
		{"SetStatus", testSetStatus},
		{"AlertFilters", testAlertFilters},
		{"AlertPaging", testAlertPaging},
		{"AlertCounts", testAlertCounts},
		{"Suppressed", testSuppressed},
		{"EventFilters", testEventFilters},
		{"EventPaging", testEventPaging},
		{"PruneEvents", testPruneEvents},
		{"VaultsActivityCallers", testVaults},
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"Tokens", testTokens},
		{"Rules", testRules},
		{"Concurrency", testConcurrency},
		{"OpenAlertsFollowChanges", testOpenAlerts},
		{"EventsOutOfOrder", testEventsOutOfOrder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// Ev is an event of the suite: a read of a secret of a vault by a caller
// at T0() plus the given minutes.
func Ev(minutes int, vault, upn, ip string) event.Event {
	e := event.Event{
		Time:      t0.Add(time.Duration(minutes) * time.Minute),
		Provider:  event.ProviderAzureKeyVault,
		Format:    event.FormatAzureKeyVault,
		Vault:     event.Vault{ID: "/subscriptions/s/vaults/" + vault, Name: vault},
		Operation: event.Operation{Name: "SecretGet", Class: event.ClassRead},
		Object:    event.Object{Kind: event.KindSecret, Name: "db-password", Version: "v1"},
		Result:    event.Result{Outcome: event.OutcomeSuccess, Status: 200},
		Source:    event.Location{File: "PT1H.json", Line: int64(minutes + 1)},
	}
	if upn != "" {
		e.Caller = event.Caller{Type: event.IdentityUser, UPN: upn, ObjectID: "oid-" + upn, AppID: "app-cli", DisplayName: "User " + upn}
	}
	if ip != "" {
		e.IP = netip.MustParseAddr(ip)
	}
	return e
}

// VaultID is the id Ev gives a vault.
func VaultID(name string) string { return "/subscriptions/s/vaults/" + name }

// Alert is an alert of the suite.
func Alert(id string, typ alert.Type, sev alert.Severity, vault string, startMin, endMin int, ip, upn string) *alert.Alert {
	a := &alert.Alert{
		ID: id, Type: typ, Title: string(typ) + " on " + vault, Severity: sev,
		Tactics:   []string{"Credential Access"},
		StartTime: t0.Add(time.Duration(startMin) * time.Minute),
		EndTime:   t0.Add(time.Duration(endMin) * time.Minute),
		Vault:     alert.Vault{Provider: string(event.ProviderAzureKeyVault), ID: VaultID(vault), Name: vault},
		Evidence:  alert.Evidence{Operations: map[string]int{"SecretGet": 1}},
		Count:     1,
	}
	if ip != "" {
		a.Entities.IPs = []alert.IP{{Address: ip, Classification: []string{"public"}}}
	}
	if upn != "" {
		a.Entities.UPNs = []string{upn}
		a.Entities.ObjectIDs = []string{"oid-" + upn}
	}
	return a
}

func ctx(t *testing.T) context.Context { return t.Context() }

func commit(t *testing.T, s store.Store, b *store.Batch) {
	t.Helper()
	if b.Now.IsZero() {
		b.Now = t0.Add(time.Hour)
	}
	if err := s.Commit(ctx(t), b); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func mustErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func testCommitRoundTrip(t *testing.T, s store.Store) {
	full := Ev(1, "kv-pay", "al@x.com", "2001:db8::1")
	full.Caller.Policies = []string{"default", "root"}
	full.Caller.Privileged = true
	full.Host, full.UserAgent, full.CorrelationID = "h", "ua <&>", "c"
	full.Result = event.Result{Outcome: event.OutcomeDenied, Status: 403, Reason: "Forbidden"}
	full.Time = full.Time.Add(123456789 * time.Nanosecond)
	minimal := event.Event{Time: t0, Provider: event.ProviderHashiCorpVault, Format: event.FormatVaultAudit,
		Vault: event.Vault{ID: "vault:root:kv/", Name: "kv"}, Operation: event.Operation{Name: "read", Class: event.ClassRead},
		Result: event.Result{Outcome: event.OutcomeSuccess}}
	a := Alert("a1", "tor-access", alert.SeverityHigh, "kv-pay", 1, 1, "2001:db8::1", "al@x.com")
	a.Remediation = []alert.Step{{Title: "Identify", Text: "t", Commands: []string{"az x"}}}
	commit(t, s, &store.Batch{
		Events:  []event.Event{full, minimal},
		Alerts:  []*alert.Alert{a},
		State:   []byte("state-1"),
		Cursors: []store.Cursor{{Source: "azure", Key: "PT1H.json", Value: "1234"}, {Source: "azure", Key: "", Value: "x"}},
	})

	page, err := s.Events(ctx(t), store.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []event.Event{full, minimal}; !reflect.DeepEqual(page.Events, want) {
		t.Errorf("events\n got %+v\nwant %+v", page.Events, want)
	}
	if page.Next != "" {
		t.Errorf("next = %q on the only page", page.Next)
	}
	rec, err := s.Alert(ctx(t), "a1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&rec.Alert, a) {
		t.Errorf("alert\n got %+v\nwant %+v", rec.Alert, *a)
	}
	want := store.AlertRecord{Alert: rec.Alert, Status: store.StatusActive, Version: 1,
		CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour), StatusBy: store.SystemActor}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("record\n got %+v\nwant %+v", rec, want)
	}
	if rec.CreatedAt.Location() != time.UTC {
		t.Errorf("time not in UTC: %v", rec.CreatedAt.Location())
	}
	st, err := s.EngineState(ctx(t))
	if err != nil || string(st) != "state-1" {
		t.Errorf("state %q, %v", st, err)
	}
	commit(t, s, &store.Batch{Cursors: []store.Cursor{{Source: "azure", Key: "PT1H.json", Value: "5678"}}})
	st, _ = s.EngineState(ctx(t))
	if string(st) != "state-1" {
		t.Errorf("nil State changed the saved state: %q", st)
	}
	commit(t, s, &store.Batch{State: []byte{}})
	if st, err := s.EngineState(ctx(t)); err != nil || st == nil || len(st) != 0 {
		t.Errorf("an empty saved state reads back as %v, %v", st, err)
	}
	cur, err := s.Cursors(ctx(t), "azure")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"PT1H.json": "5678", "": "x"}; !reflect.DeepEqual(cur, want) {
		t.Errorf("cursors %v, want %v", cur, want)
	}
	cur, err = s.Cursors(ctx(t), "other")
	if err != nil || len(cur) != 0 || cur == nil {
		t.Errorf("cursors of an unknown source: %v, %v", cur, err)
	}
	_, err = s.Alert(ctx(t), "nope")
	mustErr(t, err, store.ErrNotFound)
	_, err = s.History(ctx(t), "nope")
	mustErr(t, err, store.ErrNotFound)
}

func testLargeBatch(t *testing.T, s store.Store) {
	const n = 1000 + 37
	es := make([]event.Event, n)
	for i := range es {
		es[i] = Ev(i, fmt.Sprint("kv-", i%3), fmt.Sprintf("u%d@x.com", i%7), fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		es[i].Object.Name = fmt.Sprint("secret-", i)
	}
	commit(t, s, &store.Batch{Events: es})
	var got []event.Event
	q := store.EventQuery{Limit: 1000}
	for {
		p, err := s.Events(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Events...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(got) != n {
		t.Fatalf("%d events, want %d", len(got), n)
	}
	for i, e := range got {
		if want := es[n-1-i]; !reflect.DeepEqual(e, want) {
			t.Fatalf("event %d\n got %+v\nwant %+v", i, e, want)
		}
	}
	p, err := s.Events(ctx(t), store.EventQuery{Object: "secret-777"})
	if err != nil || len(p.Events) != 1 || p.Events[0].Source.Line != 778 {
		t.Errorf("one event of the batch by object: %+v, %v", p.Events, err)
	}
	v, err := s.Vaults(ctx(t))
	if err != nil || len(v) != 3 || v[0].Events+v[1].Events+v[2].Events != n {
		t.Errorf("vaults %+v, %v", v, err)
	}
}

func testBatchAtomic(t *testing.T, s store.Store) {
	if st, err := s.EngineState(ctx(t)); err != nil || st != nil {
		t.Fatalf("state of an empty store: %q, %v", st, err)
	}
	bad := &store.Batch{
		Events:  []event.Event{Ev(1, "kv", "a@x", "10.0.0.1"), Ev(2, "kv", "b@x", "10.0.0.2")},
		Alerts:  []*alert.Alert{Alert("a1", "tor-access", alert.SeverityHigh, "kv", 1, 2, "10.0.0.1", "")},
		State:   []byte("s"),
		Cursors: []store.Cursor{{Source: "file", Key: "k", Value: "1"}, {Source: "", Key: "k", Value: "2"}},
		Now:     t0,
	}
	for i := range 130 {
		bad.Events = append(bad.Events, Ev(3+i, "kv", "c@x", "10.0.0.3"))
	}
	err := s.Commit(ctx(t), bad)
	mustErr(t, err, store.ErrInvalid)
	page, err := s.Events(ctx(t), store.EventQuery{})
	if err != nil || len(page.Events) != 0 {
		t.Errorf("failed batch left %d events (%v)", len(page.Events), err)
	}
	_, err = s.Alert(ctx(t), "a1")
	mustErr(t, err, store.ErrNotFound)
	if st, _ := s.EngineState(ctx(t)); st != nil {
		t.Errorf("failed batch left state %q", st)
	}
	if c, _ := s.Cursors(ctx(t), "file"); len(c) != 0 {
		t.Errorf("failed batch left cursors %v", c)
	}
	if v, _ := s.Vaults(ctx(t)); len(v) != 0 {
		t.Errorf("failed batch left vaults %v", v)
	}
	if ap, _ := s.Alerts(ctx(t), store.AlertQuery{}); ap.Total != 0 {
		t.Errorf("failed batch left %d alerts", ap.Total)
	}
	// A cancelled context commits nothing either.
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	ok := *bad
	ok.Cursors = ok.Cursors[:1]
	if err := s.Commit(c, &ok); err == nil {
		t.Error("commit with a cancelled context succeeded")
	}
	// The same batch, fixed, commits.
	commit(t, s, &ok)
	if page, _ := s.Events(ctx(t), store.EventQuery{Limit: 1000}); len(page.Events) != len(bad.Events) {
		t.Errorf("%d events after the good batch", len(page.Events))
	}
}

func testBatchValidation(t *testing.T, s store.Store) {
	for name, b := range map[string]*store.Batch{
		"alert without time": {Alerts: []*alert.Alert{Alert("a", "tor-access", alert.SeverityHigh, "kv", 0, 0, "", "")}},
		"alert without id":   {Alerts: []*alert.Alert{{Type: "tor-access"}}, Now: t0},
		"nil alert":          {Alerts: []*alert.Alert{nil}, Now: t0},
	} {
		if err := s.Commit(ctx(t), b); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	if err := s.Commit(ctx(t), &store.Batch{}); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func testAlertUpsert(t *testing.T, s store.Store) {
	a := Alert("a1", "unusual-ip", alert.SeverityMedium, "kv", 0, 5, "203.0.113.9", "al@x.com")
	commit(t, s, &store.Batch{Alerts: []*alert.Alert{a}, Now: t0.Add(10 * time.Minute)})
	if _, err := s.SetStatus(ctx(t), "a1", store.StatusChange{Status: store.StatusInProgress, By: "bob", Comment: "looking", At: t0.Add(20 * time.Minute)}, 1); err != nil {
		t.Fatal(err)
	}
	grown := *a
	grown.EndTime, grown.Count = t0.Add(30*time.Minute), 7
	grown.Entities.IPs = append(grown.Entities.IPs, alert.IP{Address: "198.51.100.1"})
	grown.Entities.UPNs = nil
	grown.Entities.ObjectIDs = nil
	commit(t, s, &store.Batch{Alerts: []*alert.Alert{&grown}, Now: t0.Add(40 * time.Minute)})
	rec, err := s.Alert(ctx(t), "a1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != store.StatusInProgress || rec.Version != 2 || rec.StatusBy != "bob" {
		t.Errorf("upsert changed the handling: %+v", rec)
	}
	if rec.Alert.Count != 7 || !rec.Alert.EndTime.Equal(grown.EndTime) {
		t.Errorf("upsert did not replace the body: count %d end %v", rec.Alert.Count, rec.Alert.EndTime)
	}
	if !rec.CreatedAt.Equal(t0.Add(10*time.Minute)) || !rec.UpdatedAt.Equal(t0.Add(40*time.Minute)) {
		t.Errorf("created %v updated %v", rec.CreatedAt, rec.UpdatedAt)
	}
	h, err := s.History(ctx(t), "a1")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.StatusChange{
		{Status: store.StatusActive, By: store.SystemActor, At: t0.Add(10 * time.Minute)},
		{Status: store.StatusInProgress, By: "bob", Comment: "looking", At: t0.Add(20 * time.Minute)},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("history\n got %+v\nwant %+v", h, want)
	}
	// The entities were rewritten: the new address matches, the dropped UPN no longer does.
	for entity, n := range map[string]int{"198.51.100.1": 1, "203.0.113.9": 1, "al@x.com": 0, "oid-al@x.com": 0} {
		p, err := s.Alerts(ctx(t), store.AlertQuery{Entity: entity})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != n {
			t.Errorf("entity %s: %d alerts, want %d", entity, p.Total, n)
		}
	}
}

func testSetStatus(t *testing.T, s store.Store) {
	commit(t, s, &store.Batch{Alerts: []*alert.Alert{Alert("a1", "tor-access", alert.SeverityHigh, "kv", 0, 1, "", "")}, Now: t0})
	at := t0.Add(time.Hour)
	r, err := s.SetStatus(ctx(t), "a1", store.StatusChange{Status: store.StatusDismissed, By: "ann", Comment: "known", At: at}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.StatusDismissed || r.Version != 2 || r.StatusBy != "ann" || !r.UpdatedAt.Equal(at) {
		t.Errorf("after SetStatus: %+v", r)
	}
	_, err = s.SetStatus(ctx(t), "a1", store.StatusChange{Status: store.StatusResolved, By: "bob", At: at}, 1)
	mustErr(t, err, store.ErrConflict)
	if r, _ := s.Alert(ctx(t), "a1"); r.Status != store.StatusDismissed || r.Version != 2 {
		t.Errorf("a conflicting SetStatus changed the alert: %+v", r)
	}
	r, err = s.SetStatus(ctx(t), "a1", store.StatusChange{Status: store.StatusResolved, By: "bob", At: at.Add(time.Minute)}, 0)
	if err != nil || r.Version != 3 || r.Status != store.StatusResolved {
		t.Errorf("unchecked SetStatus: %+v, %v", r, err)
	}
	if h, _ := s.History(ctx(t), "a1"); len(h) != 3 {
		t.Errorf("history has %d entries, want 3", len(h))
	}
	_, err = s.SetStatus(ctx(t), "nope", store.StatusChange{Status: store.StatusResolved, By: "bob", At: at}, 0)
	mustErr(t, err, store.ErrNotFound)
	_, err = s.SetStatus(ctx(t), "a1", store.StatusChange{Status: "closed", By: "bob", At: at}, 0)
	mustErr(t, err, store.ErrInvalid)
	_, err = s.SetStatus(ctx(t), "a1", store.StatusChange{Status: store.StatusActive, At: at}, 0)
	mustErr(t, err, store.ErrInvalid)
}

func alertIDs(p store.AlertPage) []string {
	var ids []string
	for _, r := range p.Alerts {
		ids = append(ids, r.Alert.ID)
	}
	return ids
}

func testAlertFilters(t *testing.T, s store.Store) {
	cross := Alert("a5", "many-vaults", alert.SeverityMedium, "kv-a", 100, 160, "", "eve@x.com")
	cross.Vaults = []alert.Vault{{ID: VaultID("kv-a")}, {ID: VaultID("kv-c")}}
	cross.Entities.ARNs = []string{"arn:aws:iam::1:user/eve"}
	commit(t, s, &store.Batch{Alerts: []*alert.Alert{
		Alert("a1", "tor-access", alert.SeverityHigh, "kv-a", 0, 10, "203.0.113.1", ""),
		Alert("a2", "unusual-ip", alert.SeverityMedium, "kv-a", 20, 30, "10.0.0.2", "al@x.com"),
		Alert("a3", "unusual-ip", alert.SeverityLow, "kv-b", 40, 50, "10.0.0.3", "bo@x.com"),
		Alert("a4", "tor-access", alert.SeverityHigh, "kv-b", 60, 200, "203.0.113.1", ""),
		cross,
	}})
	if _, err := s.SetStatus(ctx(t), "a2", store.StatusChange{Status: store.StatusResolved, By: "x", At: t0}, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    store.AlertQuery
		want []string
	}{
		{"all, newest first", store.AlertQuery{}, []string{"a5", "a4", "a3", "a2", "a1"}},
		{"vault", store.AlertQuery{Vault: VaultID("kv-a")}, []string{"a5", "a2", "a1"}},
		{"vault of a cross-vault alert", store.AlertQuery{Vault: VaultID("kv-c")}, []string{"a5"}},
		{"type", store.AlertQuery{Type: "tor-access"}, []string{"a4", "a1"}},
		{"severity", store.AlertQuery{Severity: alert.SeverityMedium}, []string{"a5", "a2"}},
		{"status", store.AlertQuery{Status: store.StatusActive}, []string{"a5", "a4", "a3", "a1"}},
		{"status resolved", store.AlertQuery{Status: store.StatusResolved}, []string{"a2"}},
		{"entity ip", store.AlertQuery{Entity: "203.0.113.1"}, []string{"a4", "a1"}},
		{"entity upn, any case", store.AlertQuery{Entity: "AL@X.COM"}, []string{"a2"}},
		{"entity object id", store.AlertQuery{Entity: "oid-bo@x.com"}, []string{"a3"}},
		{"entity principal", store.AlertQuery{Entity: "arn:aws:iam::1:user/eve"}, []string{"a5"}},
		{"entity is not a vault", store.AlertQuery{Entity: VaultID("kv-a")}, nil},
		{"from: overlapping or later", store.AlertQuery{From: t0.Add(45 * time.Minute)}, []string{"a5", "a4", "a3"}},
		{"to: started before", store.AlertQuery{To: t0.Add(40 * time.Minute)}, []string{"a2", "a1"}},
		{"window", store.AlertQuery{From: t0.Add(150 * time.Minute), To: t0.Add(155 * time.Minute)}, []string{"a5", "a4"}},
		{"combined", store.AlertQuery{Vault: VaultID("kv-b"), Type: "tor-access", Entity: "203.0.113.1"}, []string{"a4"}},
	} {
		p, err := s.Alerts(ctx(t), tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := alertIDs(p); !slices.Equal(got, tc.want) || p.Total != len(tc.want) {
			t.Errorf("%s: got %v (total %d), want %v", tc.name, got, p.Total, tc.want)
		}
	}
	_, err := s.Alerts(ctx(t), store.AlertQuery{Status: "closed"})
	mustErr(t, err, store.ErrInvalid)
}

func testAlertPaging(t *testing.T, s store.Store) {
	var as []*alert.Alert
	for i := range 25 {
		// Pairs share a start time: the id orders them.
		as = append(as, Alert(fmt.Sprintf("a%02d", i), "tor-access", alert.SeverityHigh, "kv", i/2, i/2, "", ""))
	}
	commit(t, s, &store.Batch{Alerts: as})
	var got []string
	for off := 0; ; off += 10 {
		p, err := s.Alerts(ctx(t), store.AlertQuery{Limit: 10, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 25 {
			t.Fatalf("total %d", p.Total)
		}
		if len(p.Alerts) == 0 {
			break
		}
		got = append(got, alertIDs(p)...)
	}
	var want []string
	for i := 24; i >= 0; i-- {
		want = append(want, fmt.Sprintf("a%02d", i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages\n got %v\nwant %v", got, want)
	}
}

func testAlertCounts(t *testing.T, s store.Store) {
	commit(t, s, &store.Batch{Alerts: []*alert.Alert{
		Alert("a1", "tor-access", alert.SeverityHigh, "kv", 0, 1, "", ""),
		Alert("a2", "unusual-ip", alert.SeverityLow, "kv", 59, 70, "", ""),
		Alert("a3", "unusual-ip", alert.SeverityLow, "kv", 60, 61, "", ""),
		Alert("a4", "unusual-ip", alert.SeverityMedium, "kv", 150, 151, "", ""),
		Alert("a5", "unusual-ip", alert.SeverityMedium, "kv", 180, 181, "", ""), // at "to": outside
	}})
	pts, err := s.AlertCounts(ctx(t), t0, t0.Add(3*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.CountPoint{
		{Start: t0, Total: 2, BySeverity: map[alert.Severity]int{alert.SeverityHigh: 1, alert.SeverityLow: 1}},
		{Start: t0.Add(time.Hour), Total: 1, BySeverity: map[alert.Severity]int{alert.SeverityLow: 1}},
		{Start: t0.Add(2 * time.Hour), Total: 1, BySeverity: map[alert.Severity]int{alert.SeverityMedium: 1}},
	}
	if !reflect.DeepEqual(pts, want) {
		t.Errorf("counts\n got %+v\nwant %+v", pts, want)
	}
	for _, bad := range []struct {
		from, to time.Time
		bucket   time.Duration
	}{{t0, t0, time.Hour}, {t0, t0.Add(time.Hour), 0}, {t0, t0.Add(1000 * time.Hour), time.Second}} {
		_, err := s.AlertCounts(ctx(t), bad.from, bad.to, bad.bucket)
		mustErr(t, err, store.ErrInvalid)
	}
}

func testSuppressed(t *testing.T, s store.Store) {
	r, err := s.CreateRule(ctx(t), store.Rule{ID: "r1", Type: "tor-access", Author: "ann", StartsAt: t0, CreatedAt: t0,
		Matchers: []store.Matcher{{Field: "ip", Op: store.OpCIDR, Value: "203.0.113.0/24"}}})
	if err != nil {
		t.Fatal(err)
	}
	a := Alert("a1", "tor-access", alert.SeverityHigh, "kv", 0, 1, "203.0.113.1", "")
	commit(t, s, &store.Batch{
		Events:     []event.Event{Ev(0, "kv", "", "203.0.113.1")},
		Alerts:     []*alert.Alert{a, Alert("a2", "tor-access", alert.SeverityHigh, "kv", 0, 1, "198.51.100.1", "")},
		Suppressed: map[string]string{"a1": r.ID},
		Now:        t0.Add(time.Minute),
	})
	// The alert grows: still muted, not counted twice.
	commit(t, s, &store.Batch{Alerts: []*alert.Alert{a}, Now: t0.Add(2 * time.Minute)})
	rec, err := s.Alert(ctx(t), "a1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.SuppressedBy != "r1" {
		t.Errorf("suppressed by %q", rec.SuppressedBy)
	}
	r, err = s.Rule(ctx(t), "r1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Matches != 1 || !r.LastMatched.Equal(t0.Add(time.Minute)) {
		t.Errorf("rule matches %d, last %v", r.Matches, r.LastMatched)
	}
	for _, tc := range []struct {
		q    store.AlertQuery
		want []string
	}{
		{store.AlertQuery{SuppressedBy: "r1"}, []string{"a1"}},
		{store.AlertQuery{Unsuppressed: true}, []string{"a2"}},
		{store.AlertQuery{SuppressedBy: "r2"}, nil},
	} {
		p, err := s.Alerts(ctx(t), tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := alertIDs(p); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.q, got, tc.want)
		}
	}
	v, err := s.Vaults(ctx(t))
	if err != nil || len(v) != 1 {
		t.Fatalf("vaults %v, %v", v, err)
	}
	if want := map[alert.Severity]int{alert.SeverityHigh: 1}; !reflect.DeepEqual(v[0].OpenAlerts, want) {
		t.Errorf("open alerts %v, want %v (the suppressed one not counted)", v[0].OpenAlerts, want)
	}
}

func eventKeys(es []event.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s@%d", e.Vault.Name, int(e.Time.Sub(t0)/time.Minute)))
	}
	return out
}

func testEventFilters(t *testing.T, s store.Store) {
	e3 := Ev(3, "kv-b", "bo@x.com", "10.0.0.2")
	e3.Object.Name = "api-key"
	e4 := Ev(4, "kv-b", "", "")
	e4.Caller = event.Caller{Type: event.IdentityServicePrincipal, AppID: "app-svc", ObjectID: "oid-svc"}
	e5 := Ev(5, "kv-a", "", "198.51.100.7") // anonymous: known by address
	e6 := Ev(6, "vault", "", "")
	e6.Provider = event.ProviderHashiCorpVault
	e6.Caller = event.Caller{VaultEntityID: "ent-1", TokenAccessor: "hmac:1"}
	commit(t, s, &store.Batch{Events: []event.Event{
		Ev(1, "kv-a", "al@x.com", "10.0.0.1"),
		Ev(2, "kv-a", "al@x.com", "2001:db8::1"),
		e3, e4, e5, e6,
	}})
	for _, tc := range []struct {
		name string
		q    store.EventQuery
		want []string
	}{
		{"all, newest first", store.EventQuery{}, []string{"vault@6", "kv-a@5", "kv-b@4", "kv-b@3", "kv-a@2", "kv-a@1"}},
		{"ip", store.EventQuery{IP: "10.0.0.1"}, []string{"kv-a@1"}},
		{"ipv6, any spelling", store.EventQuery{IP: "2001:DB8:0::1"}, []string{"kv-a@2"}},
		{"object id", store.EventQuery{ObjectID: "oid-svc"}, []string{"kv-b@4"}},
		{"upn, any case", store.EventQuery{UPN: "Al@X.com"}, []string{"kv-a@2", "kv-a@1"}},
		{"app id", store.EventQuery{AppID: "app-cli"}, []string{"kv-b@3", "kv-a@2", "kv-a@1"}},
		{"principal", store.EventQuery{Principal: "oid-al@x.com"}, []string{"kv-a@2", "kv-a@1"}},
		{"principal by address", store.EventQuery{Principal: "ip:198.51.100.7"}, []string{"kv-a@5"}},
		{"principal vault entity", store.EventQuery{Principal: "ent-1"}, []string{"vault@6"}},
		{"vault", store.EventQuery{Vault: VaultID("kv-b")}, []string{"kv-b@4", "kv-b@3"}},
		{"object", store.EventQuery{Object: "api-key"}, []string{"kv-b@3"}},
		{"from", store.EventQuery{From: t0.Add(5 * time.Minute)}, []string{"vault@6", "kv-a@5"}},
		{"to", store.EventQuery{To: t0.Add(2 * time.Minute)}, []string{"kv-a@1"}},
		{"combined", store.EventQuery{Vault: VaultID("kv-a"), UPN: "al@x.com", From: t0.Add(2 * time.Minute)}, []string{"kv-a@2"}},
		{"nothing", store.EventQuery{IP: "192.0.2.1"}, nil},
	} {
		p, err := s.Events(ctx(t), tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := eventKeys(p.Events); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	_, err := s.Events(ctx(t), store.EventQuery{Cursor: "garbage"})
	mustErr(t, err, store.ErrInvalid)
}

func testEventPaging(t *testing.T, s store.Store) {
	var es []event.Event
	for i := range 23 {
		es = append(es, Ev(i/3, "kv", "al@x.com", "10.0.0.1")) // three events a minute: ties on time
	}
	commit(t, s, &store.Batch{Events: es[:10]})
	commit(t, s, &store.Batch{Events: es[10:]})
	for _, q := range []store.EventQuery{{}, {UPN: "al@x.com"}, {Vault: VaultID("kv"), From: t0}} {
		q.Limit = 5
		var got []event.Event
		pages := 0
		for {
			p, err := s.Events(ctx(t), q)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			got = append(got, p.Events...)
			if p.Next == "" {
				break
			}
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			q.Cursor = p.Next
		}
		if len(got) != 23 || pages != 5 {
			t.Fatalf("%+v: %d events in %d pages", q, len(got), pages)
		}
		for i, e := range got {
			if i > 0 && e.Time.After(got[i-1].Time) {
				t.Errorf("event %d is newer than the one before", i)
			}
		}
	}
	// Events are returned in reverse commit order among equal times.
	p, _ := s.Events(ctx(t), store.EventQuery{Limit: 3})
	if len(p.Events) != 3 || !p.Events[0].Time.Equal(es[22].Time) {
		t.Errorf("first page %v", eventKeys(p.Events))
	}
}

func testPruneEvents(t *testing.T, s store.Store) {
	var es []event.Event
	for i := range 10 {
		es = append(es, Ev(i*60, "kv", "al@x.com", "10.0.0.1")) // hourly
	}
	commit(t, s, &store.Batch{Events: es})
	n, err := s.PruneEvents(ctx(t), t0.Add(4*time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("pruned %d, %v; want 4", n, err)
	}
	p, _ := s.Events(ctx(t), store.EventQuery{})
	if len(p.Events) != 6 || !p.Events[5].Time.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("after pruning: %v", eventKeys(p.Events))
	}
	// The activity counts go with the events.
	act, err := s.Activity(ctx(t), VaultID("kv"), t0, t0.Add(10*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range act {
		if want := int64(min(i/4, 1)); p.Operations != want {
			t.Errorf("activity of hour %d after pruning: %d, want %d", i, p.Operations, want)
		}
	}
	// The summaries keep counting what was pruned.
	v, _ := s.Vaults(ctx(t))
	if len(v) != 1 || v[0].Events != 10 {
		t.Errorf("vaults after pruning: %+v", v)
	}
	// Prune keeps the store's retention (30 days unless configured).
	if err := s.CreateUser(ctx(t), store.User{Name: "u", Role: store.RoleViewer, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx(t), store.Session{IDHash: "h1", User: "u", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	pr, err := s.Prune(ctx(t), t0.Add(store.DefaultRetention+5*time.Hour+time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if pr.Sessions != 1 {
		t.Errorf("prune removed %d sessions, want 1", pr.Sessions)
	}
	if pr.Events != 2 {
		t.Errorf("prune removed %d events, want the 2 older than the retention", pr.Events)
	}
}

func testVaults(t *testing.T, s store.Store) {
	var es []event.Event
	// kv-a: 3 reads by al in the first hour, 1 denied list by bo in the second, 1 unauthenticated.
	es = append(es, Ev(0, "kv-a", "al@x.com", "10.0.0.1"), Ev(10, "kv-a", "al@x.com", "10.0.0.1"), Ev(59, "kv-a", "al@x.com", "10.0.0.1"))
	d := Ev(61, "kv-a", "bo@x.com", "10.0.0.2")
	d.Operation = event.Operation{Name: "SecretList", Class: event.ClassList}
	d.Result = event.Result{Outcome: event.OutcomeDenied, Status: 403}
	u := Ev(62, "kv-a", "", "198.51.100.9")
	u.Result = event.Result{Outcome: event.OutcomeUnauthenticated, Status: 401}
	nf := Ev(63, "kv-a", "bo@x.com", "10.0.0.2")
	nf.Result = event.Result{Outcome: event.OutcomeNotFound, Status: 404}
	es = append(es, d, u, nf)
	// kv-b: one event, in another batch.
	commit(t, s, &store.Batch{Events: es})
	b := Ev(30, "kv-b", "al@x.com", "10.0.0.1")
	b.Vault.Name = "" // a later batch without a name keeps the known one
	commit(t, s, &store.Batch{Events: []event.Event{Ev(20, "kv-b", "al@x.com", "10.0.0.1"), b},
		Alerts: []*alert.Alert{
			Alert("x1", "tor-access", alert.SeverityHigh, "kv-a", 0, 1, "", ""),
			Alert("x2", "unusual-ip", alert.SeverityLow, "kv-a", 0, 1, "", ""),
			Alert("x3", "unusual-ip", alert.SeverityLow, "kv-a", 0, 1, "", ""),
			Alert("x4", "unusual-ip", alert.SeverityLow, "kv-b", 0, 1, "", ""),
		}})
	if _, err := s.SetStatus(ctx(t), "x3", store.StatusChange{Status: store.StatusResolved, By: "ann", At: t0}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStatus(ctx(t), "x2", store.StatusChange{Status: store.StatusInProgress, By: "ann", At: t0}, 0); err != nil {
		t.Fatal(err)
	}
	v, err := s.Vaults(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.VaultSummary{
		{Provider: event.ProviderAzureKeyVault, ID: VaultID("kv-a"), Name: "kv-a", FirstEvent: t0, LastEvent: t0.Add(63 * time.Minute),
			Events: 6, Denials: 2, OpenAlerts: map[alert.Severity]int{alert.SeverityHigh: 1, alert.SeverityLow: 1}},
		{Provider: event.ProviderAzureKeyVault, ID: VaultID("kv-b"), Name: "kv-b", FirstEvent: t0.Add(20 * time.Minute), LastEvent: t0.Add(30 * time.Minute),
			Events: 2, Denials: 0, OpenAlerts: map[alert.Severity]int{alert.SeverityLow: 1}},
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("vaults\n got %+v\nwant %+v", v, want)
	}

	act, err := s.Activity(ctx(t), VaultID("kv-a"), t0, t0.Add(3*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wantAct := []store.ActivityPoint{
		{Start: t0, Operations: 3, ByClass: map[event.Class]int64{event.ClassRead: 3}},
		{Start: t0.Add(time.Hour), Operations: 3, Denials: 2, ByClass: map[event.Class]int64{event.ClassList: 1, event.ClassRead: 2}},
		{Start: t0.Add(2 * time.Hour), ByClass: map[event.Class]int64{}},
	}
	if !reflect.DeepEqual(act, wantAct) {
		t.Errorf("activity\n got %+v\nwant %+v", act, wantAct)
	}
	all, err := s.Activity(ctx(t), "", t0, t0.Add(time.Hour), 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if all[0].Operations != 3 || all[1].Operations != 2 {
		t.Errorf("activity of every vault: %+v", all)
	}

	top, err := s.TopCallers(ctx(t), VaultID("kv-a"), t0, t0.Add(3*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	wantTop := []store.CallerCount{
		{Principal: "oid-al@x.com", Name: "al@x.com", Operations: 3, Last: t0.Add(59 * time.Minute)},
		{Principal: "oid-bo@x.com", Name: "bo@x.com", Operations: 2, Denials: 1, Last: t0.Add(63 * time.Minute)},
		{Principal: "ip:198.51.100.9", Operations: 1, Denials: 1, Last: t0.Add(62 * time.Minute)},
	}
	if !reflect.DeepEqual(top, wantTop) {
		t.Errorf("top callers\n got %+v\nwant %+v", top, wantTop)
	}
	top, err = s.TopCallers(ctx(t), "", time.Time{}, time.Time{}, 1)
	if err != nil || len(top) != 1 || top[0].Operations != 5 {
		t.Errorf("top caller of every vault: %+v, %v", top, err)
	}
}

func testUsers(t *testing.T, s store.Store) {
	u := store.User{Name: "ann", Role: store.RoleAdmin, PasswordHash: "$argon2id$x", CreatedAt: t0}
	if err := s.CreateUser(ctx(t), u); err != nil {
		t.Fatal(err)
	}
	mustErr(t, s.CreateUser(ctx(t), u), store.ErrExists)
	mustErr(t, s.CreateUser(ctx(t), store.User{Name: "x", Role: "root"}), store.ErrInvalid)
	mustErr(t, s.CreateUser(ctx(t), store.User{Role: store.RoleViewer}), store.ErrInvalid)
	if err := s.CreateUser(ctx(t), store.User{Name: "bob", Role: store.RoleViewer, PasswordHash: "h", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	got, err := s.User(ctx(t), "ann")
	if err != nil || !reflect.DeepEqual(got, u) {
		t.Errorf("user %+v, %v", got, err)
	}
	u.Role, u.Disabled, u.PasswordHash = store.RoleResponder, true, "h2"
	if err := s.UpdateUser(ctx(t), u); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx(t), "ann"); !reflect.DeepEqual(got, u) {
		t.Errorf("updated user %+v, want %+v", got, u)
	}
	mustErr(t, s.UpdateUser(ctx(t), store.User{Name: "zed", Role: store.RoleViewer}), store.ErrNotFound)
	all, err := s.Users(ctx(t))
	if err != nil || len(all) != 2 || all[0].Name != "ann" || all[1].Name != "bob" {
		t.Errorf("users %+v, %v", all, err)
	}
	if err := s.DeleteUser(ctx(t), "bob"); err != nil {
		t.Fatal(err)
	}
	mustErr(t, s.DeleteUser(ctx(t), "bob"), store.ErrNotFound)
	_, err = s.User(ctx(t), "bob")
	mustErr(t, err, store.ErrNotFound)
}

func testSessions(t *testing.T, s store.Store) {
	for _, n := range []string{"ann", "bob"} {
		if err := s.CreateUser(ctx(t), store.User{Name: n, Role: store.RoleViewer, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	s1 := store.Session{IDHash: "h1", User: "ann", CSRF: "c1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	for _, ss := range []store.Session{s1,
		{IDHash: "h2", User: "ann", CSRF: "c2", CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)},
		{IDHash: "h3", User: "bob", CSRF: "c3", CreatedAt: t0, ExpiresAt: t0.Add(3 * time.Hour)},
		{IDHash: "h4", User: "bob", CSRF: "c4", CreatedAt: t0, ExpiresAt: t0.Add(3 * time.Hour)},
	} {
		if err := s.CreateSession(ctx(t), ss); err != nil {
			t.Fatal(err)
		}
	}
	mustErr(t, s.CreateSession(ctx(t), s1), store.ErrExists)
	mustErr(t, s.CreateSession(ctx(t), store.Session{IDHash: "h9", User: "zed", ExpiresAt: t0}), store.ErrNotFound)
	mustErr(t, s.CreateSession(ctx(t), store.Session{IDHash: "h9", User: "ann"}), store.ErrInvalid) // no expiry
	got, err := s.Session(ctx(t), "h1")
	if err != nil || !reflect.DeepEqual(got, s1) {
		t.Errorf("session %+v, %v", got, err)
	}
	if err := s.PruneSessions(ctx(t), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = s.Session(ctx(t), "h1")
	mustErr(t, err, store.ErrNotFound)
	if _, err := s.Session(ctx(t), "h2"); err != nil {
		t.Errorf("unexpired session pruned: %v", err)
	}
	if err := s.DeleteSession(ctx(t), "h2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx(t), "h2"); err != nil {
		t.Errorf("deleting a deleted session: %v", err)
	}
	if err := s.DeleteSessions(ctx(t), "bob"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Session(ctx(t), "h3")
	mustErr(t, err, store.ErrNotFound)
	// Deleting a user ends its sessions.
	if err := s.CreateSession(ctx(t), store.Session{IDHash: "h5", User: "bob", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx(t), "bob"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Session(ctx(t), "h5")
	mustErr(t, err, store.ErrNotFound)
}

func testTokens(t *testing.T, s store.Store) {
	t1 := store.APIToken{ID: "t1", Name: "ci", Hash: "sha256:1", Role: store.RoleViewer, CreatedBy: "ann", CreatedAt: t0}
	t2 := store.APIToken{ID: "t2", Name: "tail", Hash: "sha256:2", Role: store.RoleIngest, CreatedBy: "ann", Source: "azure", CreatedAt: t0.Add(time.Minute)}
	for _, tk := range []store.APIToken{t1, t2} {
		if err := s.CreateToken(ctx(t), tk); err != nil {
			t.Fatal(err)
		}
	}
	mustErr(t, s.CreateToken(ctx(t), t1), store.ErrExists)
	dupHash := t1
	dupHash.ID = "t3"
	mustErr(t, s.CreateToken(ctx(t), dupHash), store.ErrExists)
	mustErr(t, s.CreateToken(ctx(t), store.APIToken{ID: "t4", Hash: "h4", Role: "root"}), store.ErrInvalid)
	mustErr(t, s.CreateToken(ctx(t), store.APIToken{ID: "t5", Hash: "h5", Role: store.RoleIngest}), store.ErrInvalid)
	mustErr(t, s.CreateToken(ctx(t), store.APIToken{ID: "t6", Role: store.RoleViewer}), store.ErrInvalid)

	got, err := s.TokenByHash(ctx(t), "sha256:2")
	if err != nil || !reflect.DeepEqual(got, t2) {
		t.Errorf("token %+v, %v", got, err)
	}
	_, err = s.TokenByHash(ctx(t), "sha256:9")
	mustErr(t, err, store.ErrNotFound)
	if err := s.TouchToken(ctx(t), "t1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchToken(ctx(t), "t1", t0.Add(time.Minute)); err != nil { // an older use, reported late
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx(t), "t1"); err != nil {
		t.Fatal(err)
	}
	mustErr(t, s.RevokeToken(ctx(t), "t9"), store.ErrNotFound)
	mustErr(t, s.TouchToken(ctx(t), "t9", t0), store.ErrNotFound)
	all, err := s.Tokens(ctx(t))
	if err != nil || len(all) != 2 {
		t.Fatalf("tokens %+v, %v", all, err)
	}
	t1.LastUsed, t1.Revoked = t0.Add(time.Hour), true
	if want := []store.APIToken{t2, t1}; !reflect.DeepEqual(all, want) {
		t.Errorf("tokens\n got %+v\nwant %+v", all, want)
	}
}

func testRules(t *testing.T, s store.Store) {
	r := store.Rule{ID: "r1", Type: "unusual-ip", Author: "ann", Reason: "office move", Comment: "until the VPN is fixed",
		Matchers: []store.Matcher{{Field: "ip", Op: store.OpCIDR, Value: "10.0.0.0/8"}, {Field: "vault", Op: store.OpRegexp, Value: "^kv-"}},
		StartsAt: t0, EndsAt: t0.Add(24 * time.Hour), CreatedAt: t0}
	got, err := s.CreateRule(ctx(t), r)
	if err != nil {
		t.Fatal(err)
	}
	want := r
	want.Version, want.UpdatedAt = 1, t0
	if !reflect.DeepEqual(got, want) {
		t.Errorf("created\n got %+v\nwant %+v", got, want)
	}
	_, err = s.CreateRule(ctx(t), r)
	mustErr(t, err, store.ErrExists)
	gen, err := s.CreateRule(ctx(t), store.Rule{Author: "bob", StartsAt: t0, CreatedAt: t0.Add(time.Minute)})
	if err != nil || gen.ID == "" || gen.Matchers == nil {
		t.Fatalf("rule without id: %+v, %v", gen, err)
	}
	for name, bad := range map[string]store.Rule{
		"bad op":     {ID: "b1", Matchers: []store.Matcher{{Field: "ip", Op: "~", Value: "x"}}},
		"bad cidr":   {ID: "b2", Matchers: []store.Matcher{{Field: "ip", Op: store.OpCIDR, Value: "10.0.0.0"}}},
		"bad regex":  {ID: "b3", Matchers: []store.Matcher{{Field: "vault", Op: store.OpRegexp, Value: "("}}},
		"no field":   {ID: "b4", Matchers: []store.Matcher{{Op: store.OpEqual, Value: "x"}}},
		"ends early": {ID: "b5", StartsAt: t0, EndsAt: t0.Add(-time.Hour)},
	} {
		_, err := s.CreateRule(ctx(t), bad)
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	if _, err := s.Rule(ctx(t), "b1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an invalid rule was stored: %v", err)
	}

	upd := got
	upd.Disabled, upd.Comment, upd.UpdatedAt = true, "done", t0.Add(time.Hour)
	upd.Matchers = upd.Matchers[:1]
	upd.CreatedAt = t0.Add(99 * time.Hour) // not the caller's to change
	u2, err := s.UpdateRule(ctx(t), upd, 1)
	if err != nil {
		t.Fatal(err)
	}
	if u2.Version != 2 || !u2.Disabled || u2.Comment != "done" || len(u2.Matchers) != 1 || !u2.CreatedAt.Equal(t0) || !u2.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("updated %+v", u2)
	}
	_, err = s.UpdateRule(ctx(t), upd, 1)
	mustErr(t, err, store.ErrConflict)
	if _, err := s.UpdateRule(ctx(t), upd, 0); err != nil {
		t.Errorf("unchecked update: %v", err)
	}
	upd.ID = "nope"
	_, err = s.UpdateRule(ctx(t), upd, 0)
	mustErr(t, err, store.ErrNotFound)
	all, err := s.Rules(ctx(t))
	if err != nil || len(all) != 2 || all[0].ID != gen.ID || all[1].ID != "r1" || all[1].Version != 3 {
		t.Errorf("rules %+v, %v", all, err)
	}
	_, err = s.Rule(ctx(t), "nope")
	mustErr(t, err, store.ErrNotFound)
}

func testConcurrency(t *testing.T, s store.Store) {
	const (
		batches = 30
		size    = 25
	)
	var wg, writers sync.WaitGroup
	// Two sources commit at once; the second's batches also carry the
	// engine state.
	for w := range 2 {
		writers.Go(func() {
			for i := range batches {
				es := make([]event.Event, size)
				for j := range es {
					es[j] = Ev(i, "kv", "al@x.com", "10.0.0.1")
				}
				b := &store.Batch{
					Events:  es,
					Alerts:  []*alert.Alert{Alert(fmt.Sprintf("a%d-%d", w, i), "tor-access", alert.SeverityHigh, "kv", i, i, "10.0.0.1", "")},
					Cursors: []store.Cursor{{Source: fmt.Sprint("file", w), Key: "f", Value: fmt.Sprint(i)}},
					Now:     t0,
				}
				if w == 1 {
					b.State = fmt.Appendf(nil, "%d", i)
				}
				if err := s.Commit(ctx(t), b); err != nil {
					t.Errorf("commit %d of writer %d: %v", i, w, err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() {
		writers.Wait()
		close(done)
	}()
	for range 3 {
		wg.Go(func() {
			last := [2]int{-1, -1}
			for {
				select {
				case <-done:
					return
				default:
				}
				v, err := s.Vaults(ctx(t))
				if err != nil {
					t.Errorf("vaults: %v", err)
					return
				}
				if len(v) == 1 && v[0].Events%size != 0 {
					t.Errorf("a reader saw part of a batch: %d events", v[0].Events)
				}
				p, err := s.Events(ctx(t), store.EventQuery{UPN: "al@x.com", Limit: 1000})
				if err != nil {
					t.Errorf("events: %v", err)
					return
				}
				if len(p.Events)%size != 0 {
					t.Errorf("a reader saw part of a batch: %d events", len(p.Events))
				}
				for w := range last {
					c, err := s.Cursors(ctx(t), fmt.Sprint("file", w))
					if err != nil {
						t.Errorf("cursors: %v", err)
						return
					}
					if v, ok := c["f"]; ok {
						var n int
						fmt.Sscan(v, &n)
						if n < last[w] {
							t.Errorf("cursor of writer %d went back from %d to %d", w, last[w], n)
						}
						last[w] = n
					}
				}
				if _, err := s.Alerts(ctx(t), store.AlertQuery{Entity: "10.0.0.1"}); err != nil {
					t.Errorf("alerts: %v", err)
					return
				}
			}
		})
	}
	// A responder changes statuses while the sources commit.
	wg.Go(func() {
		for i := 0; i < batches; {
			select {
			case <-done:
				return
			default:
			}
			_, err := s.SetStatus(ctx(t), fmt.Sprintf("a0-%d", i), store.StatusChange{Status: store.StatusInProgress, By: "ann", At: t0}, 1)
			switch {
			case err == nil:
				i++
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("set status: %v", err)
				return
			}
		}
	})
	wg.Wait()
	if t.Failed() {
		return
	}
	p, err := s.Alerts(ctx(t), store.AlertQuery{Limit: 1000})
	if err != nil || p.Total != 2*batches {
		t.Fatalf("%d alerts, %v", p.Total, err)
	}
	for _, r := range p.Alerts {
		if r.Status == store.StatusInProgress && r.Version != 2 || r.Status == store.StatusActive && r.Version != 1 {
			t.Errorf("alert %s: %+v", r.Alert.ID, r)
		}
	}
	if v, _ := s.Vaults(ctx(t)); len(v) != 1 || v[0].Events != 2*batches*size {
		t.Errorf("vaults after the commits: %+v", v)
	}
	st, _ := s.EngineState(ctx(t))
	if string(st) != fmt.Sprint(batches-1) {
		t.Errorf("state %q", st)
	}
}

// testOpenAlerts checks that the vault summaries' open alerts follow the
// alerts' severities, vaults, statuses and suppression.
func testOpenAlerts(t *testing.T, s store.Store) {
	commit(t, s, &store.Batch{Events: []event.Event{Ev(1, "kv-a", "al@x.com", "10.0.0.1"), Ev(2, "kv-b", "al@x.com", "10.0.0.1")}})
	open := func(step string, want map[string]map[alert.Severity]int) {
		t.Helper()
		vs, err := s.Vaults(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]map[alert.Severity]int{}
		for _, v := range vs {
			for sev, n := range v.OpenAlerts {
				if n != 0 {
					if got[v.Name] == nil {
						got[v.Name] = map[alert.Severity]int{}
					}
					got[v.Name][sev] = n
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: open alerts %v, want %v", step, got, want)
		}
	}
	type m = map[string]map[alert.Severity]int
	hi, lo := alert.SeverityHigh, alert.SeverityLow
	a1 := Alert("a1", "tor-access", hi, "kv-a", 0, 1, "10.0.0.1", "")
	a2 := Alert("a2", "unusual-ip", lo, "kv-a", 0, 1, "10.0.0.1", "")
	commit(t, s, &store.Batch{Alerts: []*alert.Alert{a1, a2}})
	open("new", m{"kv-a": {hi: 1, lo: 1}})

	a1 = Alert("a1", "tor-access", lo, "kv-a", 0, 2, "10.0.0.1", "")
	a1.Vaults = []alert.Vault{a1.Vault, {Provider: a1.Vault.Provider, ID: VaultID("kv-b"), Name: "kv-b"}}
	commit(t, s, &store.Batch{Alerts: []*alert.Alert{a1}})
	open("grown to another vault, lower", m{"kv-a": {lo: 2}, "kv-b": {lo: 1}})

	if _, err := s.SetStatus(ctx(t), "a1", store.StatusChange{Status: store.StatusInProgress, By: "ann", At: t0}, 0); err != nil {
		t.Fatal(err)
	}
	open("in progress", m{"kv-a": {lo: 2}, "kv-b": {lo: 1}})
	if _, err := s.SetStatus(ctx(t), "a1", store.StatusChange{Status: store.StatusResolved, By: "ann", At: t0}, 0); err != nil {
		t.Fatal(err)
	}
	open("resolved", m{"kv-a": {lo: 1}})
	commit(t, s, &store.Batch{Alerts: []*alert.Alert{a1}})
	open("resolved, grown again", m{"kv-a": {lo: 1}})
	if _, err := s.SetStatus(ctx(t), "a1", store.StatusChange{Status: store.StatusActive, By: "ann", At: t0}, 0); err != nil {
		t.Fatal(err)
	}
	open("reopened", m{"kv-a": {lo: 2}, "kv-b": {lo: 1}})

	r, err := s.CreateRule(ctx(t), store.Rule{Type: "unusual-ip", Author: "ann", StartsAt: t0, CreatedAt: t0, UpdatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	commit(t, s, &store.Batch{Alerts: []*alert.Alert{a2}, Suppressed: map[string]string{"a2": r.ID}})
	open("suppressed", m{"kv-a": {lo: 1}, "kv-b": {lo: 1}})
	commit(t, s, &store.Batch{Alerts: []*alert.Alert{a2}})
	open("suppressed, grown", m{"kv-a": {lo: 1}, "kv-b": {lo: 1}})
	if _, err := s.SetStatus(ctx(t), "a2", store.StatusChange{Status: store.StatusResolved, By: "ann", At: t0}, 0); err != nil {
		t.Fatal(err)
	}
	open("suppressed, resolved", m{"kv-a": {lo: 1}, "kv-b": {lo: 1}})
}

// testEventsOutOfOrder commits large batches whose times run backwards and
// overlap, and checks every filter's pages against the events sorted.
func testEventsOutOfOrder(t *testing.T, s store.Store) {
	const batches, size = 6, 4000
	var all []event.Event // in commit order
	for b := range batches {
		var es []event.Event
		for i := range size {
			// Batches go back in time, each overlapping the one before.
			minutes := (batches-b)*size/2 + (i*7919)%size
			e := Ev(minutes, fmt.Sprintf("kv-%d", i%3), fmt.Sprintf("u%d@x.com", i%5), fmt.Sprintf("10.0.%d.%d", i%2, i%11))
			e.Time = e.Time.Add(time.Duration(i%3) * time.Second) // equal times too
			e.Object.Name = fmt.Sprintf("s-%d", i%13)
			e.Source.Line = int64(len(all) + len(es))
			es = append(es, e)
		}
		commit(t, s, &store.Batch{Events: es})
		all = append(all, es...)
	}
	// Newest first, and among equal times the last committed first.
	sorted := slices.Clone(all)
	slices.SortStableFunc(sorted, func(a, b event.Event) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(b.Source.Line, a.Source.Line))
	})
	from, to := t0.Add(3000*time.Minute), t0.Add(9000*time.Minute)
	for _, tc := range []struct {
		name  string
		q     store.EventQuery
		match func(e *event.Event) bool
	}{
		{"all", store.EventQuery{}, func(*event.Event) bool { return true }},
		{"principal", store.EventQuery{Principal: "oid-u3@x.com"}, func(e *event.Event) bool { return e.Caller.UPN == "u3@x.com" }},
		{"object id", store.EventQuery{ObjectID: "OID-U1@X.COM"}, func(e *event.Event) bool { return e.Caller.UPN == "u1@x.com" }},
		{"upn, range", store.EventQuery{UPN: "u2@x.com", From: from, To: to}, func(e *event.Event) bool {
			return e.Caller.UPN == "u2@x.com" && !e.Time.Before(from) && e.Time.Before(to)
		}},
		{"ip", store.EventQuery{IP: "10.0.1.7"}, func(e *event.Event) bool { return e.IP.String() == "10.0.1.7" }},
		{"object, vault", store.EventQuery{Object: "s-5", Vault: VaultID("kv-2")}, func(e *event.Event) bool {
			return e.Object.Name == "s-5" && e.Vault.Name == "kv-2"
		}},
		{"vault, from", store.EventQuery{Vault: VaultID("kv-1"), From: to}, func(e *event.Event) bool {
			return e.Vault.Name == "kv-1" && !e.Time.Before(to)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []int64
			for i := range sorted {
				if tc.match(&sorted[i]) {
					want = append(want, sorted[i].Source.Line)
				}
			}
			var got []int64
			q := tc.q
			q.Limit = 333
			for page := 0; ; page++ {
				p, err := s.Events(ctx(t), q)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range p.Events {
					got = append(got, e.Source.Line)
					if want := all[e.Source.Line]; !reflect.DeepEqual(e, want) {
						t.Fatalf("event %d\n got %+v\nwant %+v", e.Source.Line, e, want)
					}
				}
				if p.Next == "" || page > len(all) {
					break
				}
				q.Cursor = p.Next
			}
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("%d events, want %d; first differences at %d", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
