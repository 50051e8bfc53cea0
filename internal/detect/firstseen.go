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
}

func newFirstSeen[K comparable](max int) *firstSeen[K] {
	return &firstSeen[K]{m: map[K]time.Time{}, max: max}
}

// see records key at t and returns when it was first seen (t when new).
func (f *firstSeen[K]) see(key K, t time.Time) time.Time {
	if first, ok := f.m[key]; ok {
		if t.Before(first) {
			f.m[key] = t
			return t
		}
		return first
	}
	if len(f.m) >= f.max {
		f.Evicted += int64(len(f.m))
		clear(f.m)
	}
	f.m[key] = t
	return t
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
