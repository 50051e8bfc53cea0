package detect

import (
	"fmt"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// HighVolume raises high-volume-operations when a principal's calls to a
// vault within one clock hour reach Factor times the busiest hour it had
// before (and at least MinCalls): a dump, not a busier day. The learned
// peak takes every earlier hour that raised nothing, so month-end batches
// that triple an application's volume stay below it once it has seen one,
// and an attacker's burst never becomes the new normal.
type HighVolume struct {
	MinCalls int     // default 100
	Factor   float64 // default 4
	m        map[vp]*volume
}

type volume struct {
	hour    time.Time // the clock hour being counted
	n       int
	peak    int // busiest earlier hour that raised nothing
	alerted bool
}

// Types implements Detector.
func (*HighVolume) Types() []alert.Type { return []alert.Type{alert.HighVolumeOperations} }

// Observe implements Detector.
func (d *HighVolume) Observe(c *Context) {
	e := c.Event
	if d.m == nil {
		if d.MinCalls <= 0 {
			d.MinCalls = 100
		}
		if d.Factor <= 0 {
			d.Factor = 4
		}
		d.m = map[vp]*volume{}
	}
	if e.Caller.Principal() == "" || e.Result.Outcome == event.OutcomeUnauthenticated {
		return
	}
	switch e.Operation.Class {
	case event.ClassRead, event.ClassList, event.ClassBackup:
	default:
		return // crypto volume has its own detector
	}
	key := vp{e.Vault.ID, c.Principal}
	v, ok := d.m[key]
	if !ok {
		if len(d.m) >= 1<<21 {
			clear(d.m)
		}
		v = &volume{}
		d.m[key] = v
	}
	hour := e.Time.Truncate(time.Hour)
	if !hour.Equal(v.hour) {
		if hour.Before(v.hour) {
			return // late event of an hour already closed
		}
		if !v.alerted && v.n > v.peak {
			v.peak = v.n
		}
		v.hour, v.n, v.alerted = hour, 0, false
	}
	v.n++
	limit := max(float64(d.MinCalls), d.Factor*float64(v.peak))
	if !c.VaultLearned() || e.Time.Sub(c.SinceOnVault) < c.Config.LearningPeriod && v.peak > 0 || float64(v.n) < limit {
		return
	}
	v.alerted = true
	c.Raise(Finding{Type: alert.HighVolumeOperations,
		Explanation: fmt.Sprintf("%s made %d calls to %s this hour; its busiest hour before had %d.",
			callerName(e), v.n, e.Vault.Name, v.peak),
		Facts: []alert.Fact{{Name: "calls_this_hour", Value: float64(v.n)}, {Name: "busiest_earlier_hour", Value: float64(v.peak)}}})
}
