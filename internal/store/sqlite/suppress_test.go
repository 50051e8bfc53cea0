package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/store"
	"vaultwatch/internal/store/storetest"
)

// TestSuppressedStoredDismissed: an alert a rule silences is stored
// dismissed, saying by which rule; one silenced as it grows is dismissed
// unless someone took it in hand.
func TestSuppressedStoredDismissed(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	t0 := storetest.T0()
	rule, err := db.CreateRule(ctx, store.Rule{Type: alert.TorAccess, Matchers: []store.Matcher{}, Reason: "other", Author: "ana", StartsAt: t0, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	a := storetest.Alert("vw-new", alert.TorAccess, alert.SeverityMedium, "kv-a", 0, 1, "185.220.101.4", "ana@example.com")
	b := storetest.Alert("vw-grows", alert.TorAccess, alert.SeverityMedium, "kv-a", 0, 1, "185.220.101.5", "bo@example.com")
	c := storetest.Alert("vw-taken", alert.TorAccess, alert.SeverityMedium, "kv-a", 0, 1, "185.220.101.6", "cy@example.com")
	if err := db.Commit(ctx, &store.Batch{Alerts: []*alert.Alert{a, b, c}, Suppressed: map[string]string{"vw-new": rule.ID}, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetStatus(ctx, "vw-taken", store.StatusChange{Status: store.StatusInProgress, By: "ana", At: t0.Add(time.Second)}, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, &store.Batch{Alerts: []*alert.Alert{b, c}, Suppressed: map[string]string{"vw-grows": rule.ID, "vw-taken": rule.ID}, Now: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]store.Status{"vw-new": store.StatusDismissed, "vw-grows": store.StatusDismissed, "vw-taken": store.StatusInProgress} {
		rec, err := db.Alert(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != want || rec.SuppressedBy != rule.ID {
			t.Errorf("%s: status %s suppressed by %q, want %s by %s", id, rec.Status, rec.SuppressedBy, want, rule.ID)
		}
	}
	h, _ := db.History(ctx, "vw-new")
	if len(h) != 1 || h[0].Status != store.StatusDismissed || h[0].Comment != "suppressed by rule "+rule.ID {
		t.Errorf("history of a silenced alert: %+v", h)
	}
	r, _ := db.Rule(ctx, rule.ID)
	if r.Matches != 3 {
		t.Errorf("rule matched %d alerts, want 3", r.Matches)
	}
}

func TestTouchSession(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	t0 := storetest.T0()
	if err := db.CreateUser(ctx, store.User{Name: "ana", Role: "viewer", PasswordHash: "$argon2id$x", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, store.Session{IDHash: "h1", User: "ana", CSRF: "c", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.TouchSession(ctx, "h1", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	s, err := db.Session(ctx, "h1")
	if err != nil || !s.ExpiresAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("session %+v %v", s, err)
	}
	if err := db.TouchSession(ctx, "nope", t0); err == nil {
		t.Error("touching a missing session worked")
	}
}
