package notify

import "sync"

// DefaultDedupSize is the number of notification ids a Dedup remembers by
// default.
const DefaultDedupSize = 10000

// Dedup remembers the ids of the notifications sent, so that one accepted
// twice (a restart, a retried batch) is sent once. It remembers the last
// Size ids; the oldest is forgotten first. Check with Has before sending
// and Add after the receiver accepted. Safe for concurrent use.
type Dedup struct {
	mu   sync.Mutex
	size int
	ring []string
	next int
	set  map[string]struct{}
}

// NewDedup returns a Dedup remembering size ids (DefaultDedupSize when
// size <= 0).
func NewDedup(size int) *Dedup {
	if size <= 0 {
		size = DefaultDedupSize
	}
	return &Dedup{size: size, set: make(map[string]struct{}, size)}
}

// Has reports whether id was added and not forgotten yet.
func (d *Dedup) Has(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.set[id]
	return ok
}

// Add remembers id, forgetting the oldest id when full. Adding an id
// already remembered changes nothing.
func (d *Dedup) Add(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.set[id]; ok {
		return
	}
	if len(d.ring) < d.size {
		d.ring = append(d.ring, id)
	} else {
		delete(d.set, d.ring[d.next])
		d.ring[d.next] = id
		d.next = (d.next + 1) % d.size
	}
	d.set[id] = struct{}{}
}

// Len returns the number of ids remembered.
func (d *Dedup) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.set)
}
