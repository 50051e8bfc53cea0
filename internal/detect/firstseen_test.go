package detect

import (
	"net/netip"
	"testing"
	"time"

	"vaultwatch/internal/intel"
)

// dropRecent empties f's cache of recent keys, which is not state.
func (f *firstSeen[K]) dropRecent() {
	if f != nil {
		f.recent, f.next = [recentKeys]recentKey[K]{}, 0
	}
}

// dropRecentAll empties every cache of recent keys in e and its detectors
// (and of the last address and principal),
// so that engines can be compared for what they learned. A detector with a
// firstSeen that is not listed here makes the state round-trip test fail.
func dropRecentAll(e *Engine) {
	e.lastIP, e.lastClass = netip.Addr{}, intel.Class{}
	e.lastVault, e.lastVaultSince = "", time.Time{}
	e.readers.last, e.readers.lastName, e.readers.lastFirst = objKey{}, "", time.Time{}
	e.anywhere.dropRecent()
	e.onVault.dropRecent()
	e.nets.dropRecent()
	for _, d := range e.detectors {
		switch d := d.(type) {
		case *CrossProvider:
			d.known.dropRecent()
		case *ManyVaults:
			for _, s := range []*vaultSpread{d.ok, d.no} {
				if s != nil {
					s.lastP, s.last = "", nil
					for _, sp := range s.m {
						sp.lastID, sp.lastX = "", nil
					}
				}
			}
		case *CryptoVolume:
			d.pairs.dropRecent()
		case *HighVolume:
			d.lastPair, d.lastVault = lastEntry[vp, volume]{}, lastEntry[string, vaultVolume]{}
		case *UnusualIP:
			d.lastPair = lastEntry[vp, netProfile]{}
		case *Newcomers:
			d.people.dropRecent()
			d.near = nearMemo{}
		case *OperationPattern:
			d.classes.dropRecent()
		case *PolicyChangeThenGet:
			d.objs.dropRecent()
		case *UnusualUserDenied:
			d.used.dropRecent()
		case *UserAppPair:
			d.pairs.dropRecent()
			d.apps.dropRecent()
			d.users.dropRecent()
		}
	}
}

// TestFirstSeenRecent checks that the cache of recent keys answers as the
// map does: earlier sightings lower the first time, eviction forgets.
func TestFirstSeenRecent(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	f := newFirstSeen[string](3)
	steps := []struct {
		key  string
		t    int
		want int
	}{
		{"a", 10, 10}, {"a", 12, 10}, {"b", 11, 11}, {"a", 5, 5}, {"a", 20, 5}, {"b", 30, 11},
		{"c", 40, 40}, {"d", 41, 41}, // the fourth key evicts a, b and c
		{"a", 50, 50}, {"d", 60, 41}, {"e", 70, 70}, {"f", 71, 71}, {"g", 72, 72}, {"d", 73, 73},
	}
	for i, s := range steps {
		if got := f.see(s.key, at(s.t)); !got.Equal(at(s.want)) {
			t.Fatalf("step %d: see(%q, %d) = %v, want minute %d", i, s.key, s.t, got.Sub(t0).Minutes(), s.want)
		}
		if first, ok := f.m[s.key]; !ok || !first.Equal(at(s.want)) {
			t.Fatalf("step %d: the map holds %v for %q, want minute %d", i, first.Sub(t0).Minutes(), s.key, s.want)
		}
	}
}
