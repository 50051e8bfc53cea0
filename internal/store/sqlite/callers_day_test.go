package sqlite

import (
	"cmp"
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"vaultwatch/internal/event"
	"vaultwatch/internal/store"
	"vaultwatch/internal/store/storetest"
)

// TestTopCallersAcrossDays counts top callers over ranges of days with
// ragged edges (days, hours and minutes) and checks them against the events
// themselves, before and after a prune that cuts through a day.
func TestTopCallersAcrossDays(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "days.db"))
	r := rand.New(rand.NewPCG(7, 9))
	users := []string{"ana@example.com", "bo@example.com", "cy@example.com", "di@example.com"}
	var evs []event.Event
	for range 3000 {
		e := storetest.Ev(r.IntN(6*24*60), []string{"kv-a", "kv-b"}[r.IntN(2)], users[r.IntN(len(users))], "198.51.100.7")
		evs = append(evs, e)
	}
	for i := 0; i < len(evs); i += 500 {
		if err := db.Commit(ctx, &store.Batch{Events: evs[i : i+500], Now: storetest.T0()}); err != nil {
			t.Fatal(err)
		}
	}
	t0 := storetest.T0()
	check := func(what string, from, to time.Time, kept func(event.Event) bool) {
		t.Helper()
		got, err := db.TopCallers(ctx, storetest.VaultID("kv-a"), from, to, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		for _, e := range evs {
			if e.Vault.Name == "kv-a" && !e.Time.Before(from) && e.Time.Before(to) && kept(e) {
				want[e.Caller.ObjectID]++
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d callers, want %d", what, len(got), len(want))
		}
		for _, c := range got {
			if c.Operations != want[c.Principal] {
				t.Errorf("%s: %s has %d, want %d", what, c.Principal, c.Operations, want[c.Principal])
			}
		}
		if !slices.IsSortedFunc(got, func(a, b store.CallerCount) int { return cmp.Compare(b.Operations, a.Operations) }) {
			t.Errorf("%s: not busiest first", what)
		}
	}
	all := func(event.Event) bool { return true }
	check("whole days", t0, t0.Add(5*24*time.Hour), all)
	check("ragged", t0.Add(7*time.Hour+13*time.Minute), t0.Add(4*24*time.Hour+5*time.Hour+41*time.Minute), all)
	check("one day and hours", t0.Add(20*time.Hour), t0.Add(49*time.Hour+30*time.Minute), all)
	check("within an hour", t0.Add(30*time.Minute), t0.Add(50*time.Minute), all)

	cut := t0.Add(2*24*time.Hour + 9*time.Hour + 17*time.Minute)
	if _, err := db.PruneEvents(ctx, cut); err != nil {
		t.Fatal(err)
	}
	after := func(e event.Event) bool { return !e.Time.Before(cut) }
	check("after a prune, whole days", t0, t0.Add(6*24*time.Hour), after)
	check("after a prune, ragged", t0.Add(2*24*time.Hour+3*time.Hour), t0.Add(5*24*time.Hour+2*time.Minute), after)
}
