package detect

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// HighVolume raises high-volume-operations when the reads and lists of a
// principal on a vault within the last sixty minutes, or of everyone on a
// vault together within one clock hour, reach Factor times what that
// principal (vault) normally does in an hour (and at least MinCalls,
// VaultMinCalls for the vault): a dump, not a busier day. A principal's
// last sixty minutes are this clock hour's calls and the share of the hour
// before's that falls within them, so a burst across the turn of an hour
// counts whole.
//
// "Normally" is robust and seasonal. The learned peak is the busiest
// earlier hour that raised nothing, so an attacker's burst never becomes the
// new normal; an hour followed at once by another is learned only when that
// one ends without raising too, so the first half of a burst is not the
// normal its second half is measured against. Month-end batches that
// triple an application's volume stay below four times it once one has
// been seen. With two weeks of history, the same hours of the week (the
// hour before and after too) are what the hour is compared with: a burst at
// 3 a.m. on a Sunday is measured against Sundays at 3 a.m., not against
// Monday's batch, though never against less than half the learned peak.
type HighVolume struct {
	MinCalls      int     // default 100
	VaultMinCalls int     // default 1000
	Factor        float64 // default 4
	m             map[vp]*volume
	vaults        map[string]*vaultVolume

	// The last pair's entry in m, and the last vault's in vaults.
	lastPair  lastEntry[vp, volume]
	lastVault lastEntry[string, vaultVolume]
}

// volume is one counter's profile.
type volume struct {
	hour    time.Time // the clock hour being counted
	n       int
	prev    int       // the count of the clock hour just before hour (0 when there were no calls in it)
	peak    int       // busiest earlier hour that raised nothing
	first   time.Time // first hour counted
	alerted bool
	// held is an hour that ended without raising and was followed at once
	// by the hour being counted: it is learned only once that hour ends
	// without raising too, so that the first half of a burst across the
	// turn of an hour does not become the normal its second half is
	// measured against.
	held     int
	heldHour time.Time
	// week is the busiest earlier hour (that raised nothing) for each hour
	// of the week, kept only once an hour has come near the threshold: most
	// callers are far below it and pay nothing for seasonality.
	week *[hoursPerWeek]uint32
}

const hoursPerWeek = 7 * 24

// seasonalHistory is how much history makes the hour of the week count.
const seasonalHistory = 14 * 24 * time.Hour

// vaultVolume is a vault's profile, with the callers of the current hour.
type vaultVolume struct {
	volume
	callers map[string]int
	// people is the busiest hour of any person learned on the vault: what
	// a person new to the vault is compared with, since their own first
	// hours are no baseline.
	people int
}

const maxHourCallers = 1024

// Types implements Detector.
func (*HighVolume) Types() []alert.Type { return []alert.Type{alert.HighVolumeOperations} }

func hourOfWeek(t time.Time) int { return int(t.Weekday())*24 + t.Hour() }

// roll moves v to hour, learning from the hour that ended. near is the
// count from which an hour is kept by hour of the week.
func (v *volume) roll(hour time.Time, near int) bool {
	if hour.Equal(v.hour) {
		return true
	}
	if hour.Before(v.hour) {
		return false // a late event of an hour already closed
	}
	if v.first.IsZero() {
		v.first = hour
	}
	next := hour.Sub(v.hour) == time.Hour
	if v.alerted {
		v.held = 0 // the hour before an alert may be its start: not learned
	} else {
		v.learn(v.heldHour, v.held, near) // the hour after it raised nothing
		v.held = 0
		if next {
			v.held, v.heldHour = v.n, v.hour
		} else {
			v.learn(v.hour, v.n, near)
		}
	}
	v.prev = 0
	if next {
		v.prev = v.n
	}
	v.hour, v.n, v.alerted = hour, 0, false
	return true
}

// learn takes an hour's count into the profile.
func (v *volume) learn(hour time.Time, n, near int) {
	if n <= 0 {
		return
	}
	v.peak = max(v.peak, n)
	if n >= near && v.week == nil {
		v.week = new([hoursPerWeek]uint32)
	}
	if v.week != nil {
		h := hourOfWeek(hour)
		v.week[h] = max(v.week[h], uint32(min(n, 1<<31)))
	}
}

// lastHour estimates the calls of the last sixty minutes at t: this clock
// hour's, and the share of the hour before's that falls within them.
func (v *volume) lastHour(t time.Time) float64 {
	into := float64(t.Sub(v.hour)) / float64(time.Hour)
	return float64(v.n) + float64(v.prev)*max(0, 1-into)
}

// normal is what this hour is compared with, and whether it is seasonal.
func (v *volume) normal() (int, bool) {
	if v.week == nil || v.hour.Sub(v.first) < seasonalHistory {
		return v.peak, false
	}
	h := hourOfWeek(v.hour)
	s := 0
	for _, d := range [...]int{hoursPerWeek - 1, 0, 1} {
		s = max(s, int(v.week[(h+d)%hoursPerWeek]))
	}
	return max(s, v.peak/2), true
}

// Observe implements Detector.
func (d *HighVolume) Observe(c *Context) {
	e := c.Event
	if d.m == nil {
		if d.MinCalls <= 0 {
			d.MinCalls = 100
		}
		if d.VaultMinCalls <= 0 {
			d.VaultMinCalls = 1000
		}
		if d.Factor <= 0 {
			d.Factor = 4
		}
		d.m = map[vp]*volume{}
		d.vaults = map[string]*vaultVolume{}
	}
	if e.Caller.Principal() == "" || e.Result.Outcome == event.OutcomeUnauthenticated {
		return
	}
	switch e.Operation.Class {
	case event.ClassRead, event.ClassList, event.ClassBackup:
	default:
		return // crypto volume has its own detector
	}
	hour := e.Time.Truncate(time.Hour)
	vv := d.vault(c, hour)
	key := vp{e.Vault.ID, c.Principal}
	v := d.lastPair.get(d.m, key, 1<<21, func() *volume { return &volume{} })
	near := int(float64(d.MinCalls) / d.Factor)
	person := e.Caller.Type == event.IdentityUser
	learned := e.Time.Sub(c.SinceOnVault) >= c.Config.LearningPeriod
	if !hour.Equal(v.hour) && person && learned && !v.alerted {
		vv.people = max(vv.people, v.n) // the hour that ends, of a learned person
	}
	if !v.roll(hour, near) {
		return
	}
	v.n++
	normal, seasonal := v.normal()
	text := ""
	switch {
	case learned:
	case person:
		// A person new to the vault: compared with the vault's people.
		normal, seasonal = vv.people, false
		text = fmt.Sprintf("%s is new to the vault (%s), and the busiest hour of any person known there had %d",
			callerName(e), human(e.Time.Sub(c.SinceOnVault)), vv.people)
	case v.peak > 0:
		return // a new application's own first hours are its only profile
	}
	limit := max(float64(d.MinCalls), d.Factor*float64(normal))
	calls := v.lastHour(e.Time)
	if !c.VaultLearned() || calls < limit {
		return
	}
	if text == "" {
		text = normalText(v, normal, seasonal)
	}
	v.alerted = true
	made := fmt.Sprintf("%d calls to %s this hour", v.n, e.Vault.Name)
	if v.prev > 0 {
		made = fmt.Sprintf("about %.0f calls to %s in the last hour (%d since %s, %d in the hour before)",
			calls, e.Vault.Name, v.n, v.hour.Format("15:04"), v.prev)
	}
	c.Raise(Finding{Type: alert.HighVolumeOperations,
		Explanation: fmt.Sprintf("%s made %s; %s.", callerName(e), made, text),
		Facts: []alert.Fact{{Name: "calls_this_hour", Value: float64(v.n)}, {Name: "calls_last_hour", Value: math.Round(calls)},
			{Name: "busiest_earlier_hour", Value: float64(v.peak)}, {Name: "normal_for_this_hour", Value: float64(normal)}}})
}

// vault counts the event in its vault's hour and raises when everyone
// together is far above the vault's profile: many callers, each below its
// own threshold. It returns the vault's profile.
func (d *HighVolume) vault(c *Context, hour time.Time) *vaultVolume {
	e := c.Event
	v := d.lastVault.get(d.vaults, e.Vault.ID, 1<<16, func() *vaultVolume { return &vaultVolume{callers: map[string]int{}} })
	if !hour.Equal(v.hour) {
		if !v.roll(hour, int(float64(d.VaultMinCalls)/d.Factor)) {
			return v
		}
		clear(v.callers)
	}
	v.n++
	if len(v.callers) < maxHourCallers {
		v.callers[c.Principal]++
	} else if n, ok := v.callers[c.Principal]; ok {
		v.callers[c.Principal] = n + 1
	}
	normal, seasonal := v.normal()
	if v.alerted || !c.VaultLearned() || float64(v.n) < max(float64(d.VaultMinCalls), d.Factor*float64(normal)) {
		return v
	}
	v.alerted = true
	top := slices.SortedFunc(maps.Keys(v.callers), func(a, b string) int {
		return cmp.Or(cmp.Compare(v.callers[b], v.callers[a]), strings.Compare(a, b))
	})
	var b strings.Builder
	for i, p := range top[:min(len(top), 5)] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%d)", p, v.callers[p])
	}
	c.Raise(Finding{Type: alert.HighVolumeOperations, Key: "vault", AllCallers: true,
		Explanation: fmt.Sprintf("%s served %d reads and lists this hour from %d callers; %s. The busiest callers: %s.",
			e.Vault.Name, v.n, len(v.callers), normalText(&v.volume, normal, seasonal), b.String()),
		Facts: []alert.Fact{{Name: "calls_this_hour", Value: float64(v.n)}, {Name: "busiest_earlier_hour", Value: float64(v.peak)},
			{Name: "normal_for_this_hour", Value: float64(normal)}, {Name: "callers_this_hour", Value: float64(len(v.callers))}}})
	return v
}

func normalText(v *volume, normal int, seasonal bool) string {
	if seasonal {
		return fmt.Sprintf("the same hours of the week had at most %d in %s (its busiest hour ever, %d)",
			normal, human(v.hour.Sub(v.first)), v.peak)
	}
	return fmt.Sprintf("its busiest hour before had %d", v.peak)
}
