package kafka

import (
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// topicPartition names one partition.
type topicPartition struct {
	topic     string
	partition int32
}

// tracker follows one assigned partition through one Run: the chunks
// handed out in offset order and how far the contiguous run of done chunks
// from the start reaches. Only that prefix is ever committed, so a chunk
// that is not done (or failed) holds back every later one.
type tracker struct {
	tp      topicPartition
	pending []*pending // not yet part of the done prefix, in offset order
	// done is the offset after the done prefix (-1 before any), with
	// the leader epoch of its last record.
	done      int64
	doneEpoch int32
	committed int64 // the offset last committed in this Run, -1 before any
	// base is where the lag counts from: done, or the first offset
	// fetched before anything is done.
	base   int64
	hwm    int64 // the partition's high watermark at the last fetch
	failed bool
	dead   bool // revoked, lost or the Run ended: Done is ignored
}

// pending is one chunk's span of offsets [start, next).
type pending struct {
	t           *tracker
	start, next int64
	epoch       int32 // leader epoch of the chunk's last record
	done        bool
	failed      bool
	out         bool // handed to the pipeline and not yet done
}

// book keeps the trackers of one Run. It is safe for concurrent use.
type book struct {
	mu          sync.Mutex
	parts       map[topicPartition]*tracker
	outstanding int  // chunks handed out and not yet done
	closed      bool // the Run ended: nothing changes any more
	fail        error
}

func newBook() *book {
	return &book{parts: make(map[topicPartition]*tracker)}
}

// tracker returns tp's tracker, making it when tp is new, with the high
// watermark hwm seen at a fetch starting at first.
// The caller holds b.mu.
func (b *book) tracker(tp topicPartition, first, hwm int64) *tracker {
	t := b.parts[tp]
	if t == nil {
		t = &tracker{tp: tp, done: -1, committed: -1, base: first}
		b.parts[tp] = t
	}
	if hwm > t.hwm {
		t.hwm = hwm
	}
	return t
}

// add appends the span [start, next) to t. An empty chunk (no bytes to
// store) is done at once. The caller holds b.mu.
func (b *book) add(t *tracker, start, next int64, epoch int32, empty bool) *pending {
	p := &pending{t: t, start: start, next: next, epoch: epoch}
	t.pending = append(t.pending, p)
	if empty {
		p.done = true
		t.advance()
	}
	return p
}

// advance moves the done prefix over the chunks done at its front.
func (t *tracker) advance() {
	for len(t.pending) > 0 && t.pending[0].done {
		p := t.pending[0]
		t.pending[0] = nil
		t.pending = t.pending[1:]
		t.done, t.doneEpoch, t.base = p.next, p.epoch, p.next
	}
}

// handOut records that p is about to be sent; it returns false when p's
// partition is no longer this Run's.
func (b *book) handOut(p *pending) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || p.t.dead {
		return false
	}
	p.out = true
	b.outstanding++
	return true
}

// takeBack undoes handOut for a chunk that was not sent after all.
func (b *book) takeBack(p *pending) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.out {
		p.out = false
		b.outstanding--
	}
}

// finish records the pipeline's verdict on p. It returns the error that
// must stop the Run when err is the first failure, nil otherwise.
func (b *book) finish(p *pending, err error, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.out {
		p.out = false
		b.outstanding--
	}
	if b.closed || p.t.dead || p.done || p.failed {
		return nil
	}
	if err != nil {
		p.failed, p.t.failed = true, true
		if b.fail != nil {
			return nil
		}
		b.fail = fmt.Errorf("kafka source %q: chunk %s/%d@%d was not stored: %w", name, p.t.tp.topic, p.t.tp.partition, p.start, err)
		return b.fail
	}
	p.done = true
	p.t.advance()
	return nil
}

// committable returns the done prefixes not yet committed, of every live
// partition or, when only is not nil, of those in only.
func (b *book) committable(only map[string][]int32) map[string]map[int32]kgo.EpochOffset {
	b.mu.Lock()
	defer b.mu.Unlock()
	offsets := make(map[string]map[int32]kgo.EpochOffset)
	add := func(t *tracker) {
		if t == nil || t.dead || t.done < 0 || t.done <= t.committed {
			return
		}
		m := offsets[t.tp.topic]
		if m == nil {
			m = make(map[int32]kgo.EpochOffset)
			offsets[t.tp.topic] = m
		}
		m[t.tp.partition] = kgo.EpochOffset{Epoch: t.doneEpoch, Offset: t.done}
	}
	if only == nil {
		for _, t := range b.parts {
			add(t)
		}
	} else {
		for topic, ps := range only {
			for _, p := range ps {
				add(b.parts[topicPartition{topic, p}])
			}
		}
	}
	return offsets
}

// committed records that offset was committed for tp.
func (b *book) committed(tp topicPartition, offset int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.parts[tp]; t != nil && offset > t.committed {
		t.committed = offset
	}
}

// drop forgets the partitions in ps (all of them when ps is nil): Done
// calls for their chunks are ignored from now on.
func (b *book) drop(ps map[string][]int32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ps == nil {
		for tp, t := range b.parts {
			t.dead = true
			delete(b.parts, tp)
		}
		return
	}
	for topic, parts := range ps {
		for _, p := range parts {
			tp := topicPartition{topic, p}
			if t := b.parts[tp]; t != nil {
				t.dead = true
				delete(b.parts, tp)
			}
		}
	}
}

// close ends the Run's book keeping: later Done calls change nothing.
func (b *book) close() {
	b.drop(nil)
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

// lag is the number of messages, summed over the live partitions, from the
// first one not yet durably processed to the high watermark.
// It returns false once the book is closed.
func (b *book) lag() (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, false
	}
	var n int64
	for _, t := range b.parts {
		if t.hwm > t.base {
			n += t.hwm - t.base
		}
	}
	return n, true
}

// busy returns the number of chunks handed out and not yet done, and the
// failure that stops the Run, if any.
func (b *book) busy() (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.outstanding, b.fail
}
