package detect

import "time"

// maxWindowKeys bounds the keys a burst window tracks; past it, keys idle
// for longer than the window are dropped.
const maxWindowKeys = 1 << 17

// burst counts recent hits per key: it reports when a key has had n hits
// within span. Each key keeps only its last n hits (and their labels, for
// counting distinct objects), so memory is bounded by keys × n.
type burst[K comparable] struct {
	n    int
	span time.Duration
	m    map[K]*ring
}

type ring struct {
	t     []time.Time
	label []string
	next  int
	full  bool
	last  time.Time
}

func newBurst[K comparable](n int, span time.Duration) *burst[K] {
	return &burst[K]{n: n, span: span, m: map[K]*ring{}}
}

// hit records a hit for key at t, with a label (an object, "" for none),
// and returns how many of the key's recent hits fall within span of t, and
// how many distinct labels they carry.
func (b *burst[K]) hit(key K, t time.Time, label string) (hits, distinct int) {
	r, ok := b.m[key]
	if !ok {
		if len(b.m) >= maxWindowKeys {
			b.prune(t)
		}
		r = &ring{t: make([]time.Time, b.n), label: make([]string, b.n)}
		b.m[key] = r
	}
	r.t[r.next], r.label[r.next] = t, label
	r.next = (r.next + 1) % b.n
	if r.next == 0 {
		r.full = true
	}
	r.last = t
	size := r.next
	if r.full {
		size = b.n
	}
	for i := range size {
		if t.Sub(r.t[i]) > b.span || r.t[i].After(t) {
			continue
		}
		hits++
		dup := false
		for j := range i {
			if r.label[j] == r.label[i] && t.Sub(r.t[j]) <= b.span && !r.t[j].After(t) {
				dup = true
				break
			}
		}
		if !dup {
			distinct++
		}
	}
	return hits, distinct
}

// prune drops keys idle for longer than span, or every key when none is.
func (b *burst[K]) prune(now time.Time) {
	for k, r := range b.m {
		if now.Sub(r.last) > b.span {
			delete(b.m, k)
		}
	}
	if len(b.m) >= maxWindowKeys {
		clear(b.m)
	}
}
