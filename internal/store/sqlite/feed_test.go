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

func TestFeeds(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "feed.db"))
	t0 := storetest.T0()
	a := storetest.Alert("vw-a", alert.TorAccess, alert.SeverityMedium, "kv-a", 0, 5, "185.220.101.4", "ana@example.com")
	b := storetest.Alert("vw-b", alert.DecoySecretAccess, alert.SeverityHigh, "kv-b", 1, 2, "198.51.100.7", "bo@example.com")
	if err := db.Commit(ctx, &store.Batch{Alerts: []*alert.Alert{a, b}, Now: t0}); err != nil {
		t.Fatal(err)
	}
	// a grows; b changes status.
	a2 := *a
	a2.Count, a2.EndTime = 9, a.EndTime.Add(time.Minute)
	if err := db.Commit(ctx, &store.Batch{Alerts: []*alert.Alert{&a2}, Now: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetStatus(ctx, "vw-b", store.StatusChange{Status: store.StatusResolved, By: "ana", Comment: "fixed", At: t0.Add(2 * time.Minute)}, 0); err != nil {
		t.Fatal(err)
	}

	h, err := db.HistoryFeed(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || !h[0].First || !h[1].First || h[2].First || h[2].Change.Status != store.StatusResolved || h[2].Alert.Alert.ID != "vw-b" {
		t.Fatalf("history feed: %+v", h)
	}
	if more, _ := db.HistoryFeed(ctx, h[2].Seq, 100); len(more) != 0 {
		t.Errorf("history after the last seq: %d items", len(more))
	}

	g, cur, err := db.GrowthFeed(ctx, store.GrowthCursor{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 1 || g[0].Alert.ID != "vw-a" || g[0].Alert.Count != 9 {
		t.Fatalf("growth feed: %+v (b's status change must not show as growth)", g)
	}
	if g2, _, _ := db.GrowthFeed(ctx, cur, 100); len(g2) != 0 {
		t.Errorf("growth after the cursor: %d", len(g2))
	}
}

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "outbox.db")
	db := open(t, path)
	now := storetest.T0()
	items := []store.OutboxItem{
		{ID: "n1", Receiver: "email", Doc: []byte(`{"id":"n1"}`), Created: now, Next: now},
		{ID: "n2", Receiver: "webhook:siem", Doc: []byte(`{"id":"n2"}`), Created: now, Next: now.Add(time.Hour)},
	}
	if err := db.Enqueue(ctx, items, []store.Cursor{{Source: "notify", Key: "history", Value: "7"}}, map[string][]byte{"ratelimit": []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	// Enqueuing the same id again changes nothing.
	if err := db.Enqueue(ctx, items[:1], nil, nil); err != nil {
		t.Fatal(err)
	}
	due, err := db.Due(ctx, now, 10)
	if err != nil || len(due) != 1 || due[0].ID != "n1" {
		t.Fatalf("due: %+v %v", due, err)
	}
	if err := db.MarkOutbox(ctx, "n1", store.OutboxPending, 1, now.Add(time.Minute), "connection refused", now); err != nil {
		t.Fatal(err)
	}
	if due, _ := db.Due(ctx, now, 10); len(due) != 0 {
		t.Errorf("retried item due before its time: %+v", due)
	}
	db.Close()

	// After a restart the queue, the cursor and the state are there.
	db = open(t, path)
	due, _ = db.Due(ctx, now.Add(2*time.Hour), 10)
	if len(due) != 2 || due[0].Attempts != 1 || due[0].LastErr != "connection refused" {
		t.Fatalf("due after restart: %+v", due)
	}
	if err := db.MarkOutbox(ctx, "n1", store.OutboxSent, 2, now, "", now); err != nil {
		t.Fatal(err)
	}
	counts, _ := db.OutboxCounts(ctx)
	if counts[store.OutboxSent] != 1 || counts[store.OutboxPending] != 1 {
		t.Errorf("counts %v", counts)
	}
	if cur, _ := db.Cursors(ctx, "notify"); cur["history"] != "7" {
		t.Errorf("cursor %v", cur)
	}
	if v, _ := db.State(ctx, "ratelimit"); string(v) != `{}` {
		t.Errorf("state %q", v)
	}
	if v, _ := db.State(ctx, "nope"); v != nil {
		t.Errorf("unset state %q", v)
	}
	if err := db.MarkOutbox(ctx, "nope", store.OutboxSent, 1, now, "", now); err == nil {
		t.Error("marking a missing item worked")
	}
}
