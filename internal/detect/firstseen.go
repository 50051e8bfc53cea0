package detect

import "time"

// firstSeen remembers when each key was first seen, bounded: past max keys
// it forgets them all (counted), so that every key is new again rather than
// memory growing without end.
type firstSeen struct {
	m       map[string]time.Time
	max     int
	Evicted int64
}

func newFirstSeen(max int) *firstSeen {
	return &firstSeen{m: map[string]time.Time{}, max: max}
}

// see records key at t and returns when it was first seen (t when new).
func (f *firstSeen) see(key string, t time.Time) time.Time {
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
