package ui

import (
	"fmt"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/store"
)

// Charts are inline SVG drawn on the server: coordinates computed here,
// the drawing in the templates, colours in the style sheet (classes only:
// the Content-Security-Policy allows no inline style). Each chart comes
// with the table it was drawn from.

// Chart geometry, in SVG user units.
const (
	chartW    = 720.0
	chartH    = 200.0
	padLeft   = 44.0
	padRight  = 8.0
	padTop    = 8.0
	padBottom = 24.0
)

// part is one segment of a stacked bar.
type part struct {
	Class, Label string
	N            int64
}

// column is one bucket of a stacked bar chart.
type column struct {
	Start time.Time
	Parts []part
}

// Total returns the sum of the column's parts.
func (c column) Total() int64 {
	var n int64
	for _, p := range c.Parts {
		n += p.N
	}
	return n
}

// rect is one drawn segment.
type rect struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

// label is an axis label.
type label struct {
	X, Y   float64
	Text   string
	Anchor string
}

// legendItem names a class.
type legendItem struct{ Class, Label string }

// barChart is a stacked bar chart over time, with its data as a table.
type barChart struct {
	Title          string
	W, H           float64
	Rects          []rect
	Labels         []label
	Legend         []legendItem
	Columns        []column // the table
	BaseY, AxisEnd float64
	Empty          bool // nothing to draw: every bucket is zero
}

// stacked draws cols as stacked bars, parts bottom up in their order.
func stacked(title string, cols []column, bucket time.Duration, legend []legendItem) barChart {
	c := barChart{Title: title, W: chartW, H: chartH, Legend: legend, Columns: cols,
		BaseY: chartH - padBottom, AxisEnd: chartW - padRight}
	var peak int64
	for _, col := range cols {
		peak = max(peak, col.Total())
	}
	c.Empty = peak == 0
	if len(cols) == 0 {
		return c
	}
	scale := niceCeil(peak)
	plotW := chartW - padLeft - padRight
	plotH := chartH - padTop - padBottom
	step := plotW / float64(len(cols))
	gap := min(step*0.15, 3)
	for i, col := range cols {
		x := padLeft + float64(i)*step
		y := chartH - padBottom
		for _, p := range col.Parts {
			if p.N == 0 {
				continue
			}
			h := float64(p.N) / float64(scale) * plotH
			y -= h
			c.Rects = append(c.Rects, rect{X: x + gap/2, Y: y, W: step - gap, H: h, Class: p.Class,
				Title: fmt.Sprintf("%s: %d %s", stamp(col.Start, bucket), p.N, p.Label)})
		}
	}
	c.Labels = append(c.Labels,
		label{X: padLeft - 4, Y: padTop + 4, Text: fmt.Sprint(scale), Anchor: "end"},
		label{X: padLeft - 4, Y: chartH - padBottom, Text: "0", Anchor: "end"})
	for _, i := range []int{0, len(cols) / 2, len(cols) - 1} {
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case len(cols) - 1:
			anchor = "end"
		}
		x := padLeft + float64(i)*step + step/2
		if anchor == "start" {
			x = padLeft
		} else if anchor == "end" {
			x = chartW - padRight
		}
		c.Labels = append(c.Labels, label{X: x, Y: chartH - 6, Text: stamp(cols[i].Start, bucket), Anchor: anchor})
	}
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(n int64) int64 {
	if n <= 1 {
		return 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

// stamp formats a bucket start: the date for buckets of a day or more.
func stamp(t time.Time, bucket time.Duration) string {
	if bucket >= 24*time.Hour {
		return t.UTC().Format("2006-01-02")
	}
	return t.UTC().Format("01-02 15:04")
}

// severityLegend is the stacking order of alert severities.
var severityLegend = []legendItem{{"sev-low", "low"}, {"sev-medium", "medium"}, {"sev-high", "high"}}

// alertChart draws alert counts stacked by severity.
func alertChart(pts []store.CountPoint, bucket time.Duration) barChart {
	cols := make([]column, len(pts))
	for i, p := range pts {
		cols[i] = column{Start: p.Start, Parts: []part{
			{"sev-low", "low", int64(p.BySeverity[alert.SeverityLow])},
			{"sev-medium", "medium", int64(p.BySeverity[alert.SeverityMedium])},
			{"sev-high", "high", int64(p.BySeverity[alert.SeverityHigh])},
		}}
	}
	return stacked("Alerts started per "+humanBucket(bucket)+", by severity", cols, bucket, severityLegend)
}

// activityChart draws a vault's operations, the denied ones on top.
func activityChart(pts []store.ActivityPoint, bucket time.Duration) barChart {
	cols := make([]column, len(pts))
	for i, p := range pts {
		cols[i] = column{Start: p.Start, Parts: []part{
			{"ops", "allowed or failed operations", p.Operations - p.Denials},
			{"denied", "denials", p.Denials},
		}}
	}
	return stacked("Operations per "+humanBucket(bucket)+", denials on top", cols, bucket,
		[]legendItem{{"ops", "operations"}, {"denied", "denied or unauthenticated"}})
}

// humanBucket names a bucket length: "hour", "6 hours", "day".
func humanBucket(b time.Duration) string {
	switch {
	case b == time.Hour:
		return "hour"
	case b == 24*time.Hour:
		return "day"
	case b == 7*24*time.Hour:
		return "week"
	case b%time.Hour == 0:
		return fmt.Sprintf("%d hours", b/time.Hour)
	case b%time.Minute == 0:
		return fmt.Sprintf("%d minutes", b/time.Minute)
	}
	return b.String()
}

// lane is one object on a timeline: a bar from its first to its last
// access.
type lane struct {
	Y, X1, X2 float64
	Label     string
	Title     string
}

// timeline shows when an alert's objects were touched.
type timeline struct {
	W, H   float64
	Lanes  []lane
	Labels []label
	LabelW float64
}

// maxLanes bounds the objects drawn on a timeline; the table lists all.
const maxLanes = 40

// objectTimeline draws the objects' first-to-last access spans.
func objectTimeline(objs []alert.Object) (timeline, bool) {
	if len(objs) == 0 {
		return timeline{}, false
	}
	objs = objs[:min(len(objs), maxLanes)]
	from, to := objs[0].First, objs[0].Last
	for _, o := range objs {
		if o.First.Before(from) {
			from = o.First
		}
		if o.Last.After(to) {
			to = o.Last
		}
	}
	span := to.Sub(from)
	if span <= 0 {
		span = time.Minute
		from = from.Add(-span / 2)
		to = from.Add(span)
	}
	const laneH, labelW = 18.0, 200.0
	tl := timeline{W: chartW, H: float64(len(objs))*laneH + padBottom + padTop, LabelW: labelW}
	plotW := chartW - labelW - padRight
	x := func(t time.Time) float64 { return labelW + float64(t.Sub(from))/float64(span)*plotW }
	for i, o := range objs {
		x1, x2 := x(o.First), x(o.Last)
		if x2-x1 < 3 {
			x2 = x1 + 3
		}
		name := o.Name
		if r := []rune(name); len(r) > 28 {
			name = string(r[:27]) + "…"
		}
		tl.Lanes = append(tl.Lanes, lane{Y: padTop + float64(i)*laneH, X1: x1, X2: x2, Label: name,
			Title: fmt.Sprintf("%s %s: %d access(es), %s to %s", o.Kind, o.Name, o.Count,
				o.First.UTC().Format(time.RFC3339), o.Last.UTC().Format(time.RFC3339))})
	}
	y := tl.H - 6
	tl.Labels = []label{
		{X: labelW, Y: y, Text: from.UTC().Format("2006-01-02 15:04:05"), Anchor: "start"},
		{X: chartW - padRight, Y: y, Text: to.UTC().Format("2006-01-02 15:04:05"), Anchor: "end"},
	}
	return tl, true
}
