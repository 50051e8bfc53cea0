package detect

import (
	"time"

	"vaultwatch/internal/event"
)

// firstSeen remembers when each key was first seen, bounded: past max keys
// it forgets them all (counted), so that every key is new again rather than
// memory growing without end. Keys are structs of the event's (interned)
// strings, so a lookup allocates nothing.
type firstSeen[K comparable] struct {
	m       map[K]time.Time
	max     int
	Evicted int64

	// recent holds the last keys looked up, with their first sighting as
	// the map has it: a caller's calls come in runs, and a hit here spares
	// the map lookup. A cache of the map, not state.
	recent [recentKeys]recentKey[K]
	next   int
}

const recentKeys = 4

type recentKey[K comparable] struct {
	key   K
	first time.Time
	ok    bool
}

func newFirstSeen[K comparable](max int) *firstSeen[K] {
	return &firstSeen[K]{m: map[K]time.Time{}, max: max}
}

// see records key at t and returns when it was first seen (t when new).
func (f *firstSeen[K]) see(key K, t time.Time) time.Time {
	for i := range f.recent {
		if r := &f.recent[i]; r.ok && r.key == key && !t.Before(r.first) {
			return r.first
		}
	}
	first, ok := f.m[key]
	switch {
	case ok && !t.Before(first):
	case ok:
		f.m[key] = t
		first = t
	default:
		if len(f.m) >= f.max {
			f.Evicted += int64(len(f.m))
			clear(f.m)
			f.recent = [recentKeys]recentKey[K]{}
		}
		f.m[key] = t
		first = t
	}
	f.remember(key, first)
	return first
}

// remember puts key in the recent entries, replacing its own entry or the
// oldest.
func (f *firstSeen[K]) remember(key K, first time.Time) {
	for i := range f.recent {
		if r := &f.recent[i]; r.ok && r.key == key {
			r.first = first
			return
		}
	}
	f.recent[f.next] = recentKey[K]{key, first, true}
	f.next = (f.next + 1) % recentKeys
}

// lastEntry caches the last key asked of a map of pointers whose entries
// are made once and never replaced: a caller's calls come in runs, and a
// vault's records in a blob. A cache, not state: its owner drops it when
// the map is replaced (a state load).
type lastEntry[K comparable, V any] struct {
	key K
	v   *V
}

// get returns m[key], made with mk when missing (m starts afresh at max
// entries), from the cache when key was the last asked.
func (l *lastEntry[K, V]) get(m map[K]*V, key K, max int, mk func() *V) *V {
	if l.v != nil && l.key == key {
		return l.v
	}
	v, ok := m[key]
	if !ok {
		if len(m) >= max {
			clear(m)
		}
		v = mk()
		m[key] = v
	}
	l.key, l.v = key, v
	return v
}

// vp is a (vault, principal) key.
type vp struct{ vault, principal string }

// vpo is a (vault, principal, object) key; op is set where the operation
// matters.
type vpo struct {
	vault, principal string
	kind             event.ObjectKind
	object, op       string
}
