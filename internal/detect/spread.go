package detect

import (
	"fmt"
	"sort"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// vaultSpread tracks, per principal, the distinct vaults it touched (with
// some outcome) within a sliding window, and the largest such count it
// reached during its first learning period: what is normal for it.
type vaultSpread struct {
	window time.Duration
	min    int // counts below this never matter
	m      map[string]*spread

	// lastP and last cache the last principal's entry in m: a caller's
	// calls come in runs. Not state.
	lastP string
	last  *spread
}

type spread struct {
	first  time.Time
	vaults map[string]*spreadVault // vault id -> last touch in the window
	peak   int                     // largest count while learning
	known  map[string]time.Time    // first touch of each vault
	// The counts of the last full count, exact until until: no vault
	// leaves the window, and no vault stops being fresh, before it. A
	// cache, not state: zero until means "count".
	n, fresh int
	until    time.Time
	// lastID and lastX cache the last vault's entry in vaults. Not state.
	lastID string
	lastX  *spreadVault
}

type spreadVault struct {
	v event.Vault
	t time.Time
}

const maxSpreadPrincipals = 1 << 18

func newVaultSpread(window time.Duration, min int) *vaultSpread {
	return &vaultSpread{window: window, min: min, m: map[string]*spread{}}
}

// touch records principal touching vault v at t; it returns the number of
// distinct vaults it touched within the window (v included), how many of
// them it first touched within the window (fresh), its learned peak, and
// whether its learning period is over. It allocates only for a new
// principal or a new vault.
func (s *vaultSpread) touch(principal string, v event.Vault, t, since time.Time, learning time.Duration) (n, fresh, peak int, learned bool) {
	sp := s.last
	if sp == nil || principal != s.lastP {
		var ok bool
		sp, ok = s.m[principal]
		if !ok {
			if len(s.m) >= maxSpreadPrincipals {
				clear(s.m)
			}
			sp = &spread{first: since, vaults: map[string]*spreadVault{}, known: map[string]time.Time{}}
			s.m[principal] = sp
		}
		s.lastP, s.last = principal, sp
	}
	x, inWindow := sp.lastX, sp.lastX != nil && v.ID == sp.lastID
	if !inWindow {
		x, inWindow = sp.vaults[v.ID]
	}
	if !inWindow || t.Before(x.t) {
		// A vault new to the window, or a call out of order, may be the
		// vault's first touch. (In order, a vault in the window was
		// first touched no later than its last touch.)
		if ft, ok := sp.known[v.ID]; (!ok && len(sp.known) < 4096) || t.Before(ft) {
			sp.known[v.ID] = t
		}
	}
	if inWindow {
		x.v, x.t = v, t
	} else {
		x = &spreadVault{v, t}
		sp.vaults[v.ID] = x
	}
	sp.lastID, sp.lastX = v.ID, x
	// Judge against the peak learned before this call, then learn from it.
	peak = sp.peak
	learned = t.Sub(sp.first) >= learning
	if learned && len(sp.vaults) < s.min {
		// Fewer vaults than could ever matter, stale ones included: no
		// need to count.
		if !inWindow {
			sp.until = time.Time{}
		}
		return len(sp.vaults), 0, peak, learned
	}
	if !sp.until.IsZero() && t.Before(sp.until) {
		// Nothing left the window since the last count: add this vault if
		// it is new to the window.
		if !inWindow {
			sp.n++
			if ft, ok := sp.known[v.ID]; !ok || t.Sub(ft) <= s.window {
				sp.fresh++
				if ok {
					sp.until = minTime(sp.until, ft.Add(s.window+1))
				}
			}
		}
	} else {
		sp.n, sp.fresh, sp.until = 0, 0, t.Add(s.window+1)
		for id, x := range sp.vaults {
			if t.Sub(x.t) > s.window {
				delete(sp.vaults, id)
				if id == sp.lastID {
					sp.lastID, sp.lastX = "", nil
				}
				continue
			}
			sp.n++
			sp.until = minTime(sp.until, x.t.Add(s.window+1))
			if ft, ok := sp.known[id]; !ok || t.Sub(ft) <= s.window {
				sp.fresh++
				if ok {
					sp.until = minTime(sp.until, ft.Add(s.window+1))
				}
			}
		}
	}
	n, fresh = sp.n, sp.fresh
	if !learned {
		sp.peak = max(sp.peak, n)
	}
	return n, fresh, peak, learned
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// others lists the principal's vaults within the window but v.
func (s *vaultSpread) others(principal string, v event.Vault) []event.Vault {
	var out []event.Vault
	for id, x := range s.m[principal].vaults {
		if id != v.ID {
			out = append(out, x.v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ManyVaults raises many-vaults when a principal successfully uses at least
// MinVaults distinct vaults within an hour, more than it ever did while it
// was learned, and at least two of them vaults it had never touched before
// that hour: a stolen credential sweeping everything it can reach. Automation
// that touches every vault daily, and an admin going through the vaults
// they look after, are learned as normal; writes do not count (a monthly
// rotation job sets new versions in every vault it serves, and a write takes
// nothing away). It raises denied-many-vaults the same way for denied
// calls.
type ManyVaults struct {
	MinVaults int           // default 3
	Window    time.Duration // default 1 hour
	ok, no    *vaultSpread
}

// Types implements Detector.
func (*ManyVaults) Types() []alert.Type {
	return []alert.Type{alert.ManyVaults, alert.DeniedManyVaults}
}

// Observe implements Detector.
func (d *ManyVaults) Observe(c *Context) {
	e := c.Event
	if d.ok == nil {
		if d.MinVaults <= 0 {
			d.MinVaults = 3
		}
		if d.Window <= 0 {
			d.Window = time.Hour
		}
		d.ok, d.no = newVaultSpread(d.Window, d.MinVaults), newVaultSpread(d.Window, d.MinVaults)
	}
	if e.Caller.Principal() == "" {
		return // anonymous: credential-probing's business
	}
	since := c.Since
	var s *vaultSpread
	var t alert.Type
	var did string
	switch e.Result.Outcome {
	case event.OutcomeSuccess:
		switch e.Operation.Class {
		case event.ClassAuth, event.ClassWrite:
			// Logins are not vault use; writes are what rotation jobs
			// and release pipelines do across every vault they serve,
			// and they take nothing away.
			return
		}
		s, t, did = d.ok, alert.ManyVaults, "used"
	case event.OutcomeDenied:
		s, t, did = d.no, alert.DeniedManyVaults, "was denied on"
	default:
		return
	}
	n, fresh, peak, learned := s.touch(c.Principal, e.Vault, e.Time, since, c.Config.LearningPeriod)
	if !c.VaultLearned() || n < d.MinVaults || n <= peak || fresh < 2 {
		return
	}
	if !learned && since.Before(c.VaultSince.Add(c.Config.LearningPeriod)) {
		return // a principal of the vault's own learning period, still being learned
	}
	others := s.others(c.Principal, e.Vault)
	c.Raise(Finding{Type: t, Key: c.Principal, Vaults: others, CrossVault: true,
		Explanation: fmt.Sprintf("%s %s %d vaults within %s, %d of them never before; while it was learned it never %s more than %d in that time.",
			callerName(e), did, n, human(d.Window), fresh, did, peak),
		Facts: []alert.Fact{{Name: "vaults", Value: float64(n)}, {Name: "learned_peak", Value: float64(peak)}}})
}

// UnusualUserDenied raises unusual-user-denied when a principal that does
// not use the vault (it has never succeeded there, nor been seen there while
// the vault was learned) is denied on it: someone probing where it has no
// business. An application denied every hour since the start is learned.
type UnusualUserDenied struct {
	used *firstSeen[vp] // first success
}

// Types implements Detector.
func (*UnusualUserDenied) Types() []alert.Type { return []alert.Type{alert.UnusualUserDenied} }

// Observe implements Detector.
func (d *UnusualUserDenied) Observe(c *Context) {
	e := c.Event
	if d.used == nil {
		d.used = newFirstSeen[vp](1 << 20)
	}
	if e.Caller.Principal() == "" {
		return
	}
	key := vp{e.Vault.ID, c.Principal}
	first := c.SinceOnVault
	if e.Result.Outcome == event.OutcomeSuccess {
		d.used.see(key, e.Time)
		return
	}
	if e.Result.Outcome != event.OutcomeDenied || !c.VaultLearned() {
		return
	}
	if _, ok := d.used.m[key]; ok {
		return // it uses this vault: a denial here is its own business
	}
	if first.Before(c.VaultSince.Add(c.Config.LearningPeriod)) {
		return // seen here (denied) while the vault was learned
	}
	c.Raise(Finding{Type: alert.UnusualUserDenied,
		Explanation: fmt.Sprintf("%s was denied on %s, a vault it has never used; it first called it %s ago. %s",
			callerName(e), e.Vault.Name, human(e.Time.Sub(first)), callSummary(e))})
}
