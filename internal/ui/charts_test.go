package ui

import (
	"testing"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/store"
)

func TestNiceCeil(t *testing.T) {
	for in, want := range map[int64]int64{0: 1, 1: 1, 2: 2, 3: 5, 7: 10, 10: 10, 11: 20, 150: 200, 4999: 5000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestAlertChart(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	pts := []store.CountPoint{
		{Start: t0, Total: 3, BySeverity: map[alert.Severity]int{"low": 1, "high": 2}},
		{Start: t0.Add(time.Hour), BySeverity: map[alert.Severity]int{}},
		{Start: t0.Add(2 * time.Hour), Total: 5, BySeverity: map[alert.Severity]int{"medium": 5}},
	}
	c := alertChart(pts, time.Hour)
	if c.Empty || len(c.Rects) != 3 || len(c.Columns) != 3 {
		t.Fatalf("chart %+v", c)
	}
	// The scale is 5: the full column reaches the top of the plot.
	full := c.Rects[2]
	if full.Class != "sev-medium" || full.Y != padTop || full.Y+full.H != chartH-padBottom {
		t.Errorf("full column %+v", full)
	}
	// Low sits at the bottom, high on top of it.
	low, high := c.Rects[0], c.Rects[1]
	if low.Class != "sev-low" || high.Class != "sev-high" || low.Y+low.H != chartH-padBottom || high.Y+high.H != low.Y {
		t.Errorf("stack %+v %+v", low, high)
	}
	for _, r := range c.Rects {
		if r.X < padLeft || r.X+r.W > chartW-padRight || r.W <= 0 {
			t.Errorf("rect outside the plot: %+v", r)
		}
	}
	if e := alertChart(nil, time.Hour); !e.Empty || len(e.Rects) != 0 {
		t.Errorf("empty chart %+v", e)
	}
}

func TestObjectTimeline(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, ok := objectTimeline(nil); ok {
		t.Errorf("a timeline without objects")
	}
	tl, ok := objectTimeline([]alert.Object{
		{Name: "a", First: t0, Last: t0.Add(time.Minute)},
		{Name: "b", First: t0.Add(time.Minute), Last: t0.Add(2 * time.Minute)},
	})
	if !ok || len(tl.Lanes) != 2 || tl.Lanes[0].X1 != tl.LabelW || tl.Lanes[1].X2 != chartW-padRight || tl.Lanes[0].X2 != tl.Lanes[1].X1 {
		t.Errorf("timeline %+v", tl)
	}
	// One instant: a visible mark, not a zero-width bar.
	tl, _ = objectTimeline([]alert.Object{{Name: "x", First: t0, Last: t0}})
	if l := tl.Lanes[0]; l.X2-l.X1 < 3 {
		t.Errorf("instant lane %+v", l)
	}
}
