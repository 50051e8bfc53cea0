package azurekv

import "unsafe"

// memo remembers what raw values of a field turned into, keyed by their
// bytes: a stream repeats a few vaults, callers, objects, user agents and
// addresses, so a value seen before costs one map lookup (m[string(b)] does
// not allocate) instead of the parsing, lower-casing and interning that
// made it. It is bounded: when it holds max entries it starts afresh.
//
// The last key found is compared first: records come in runs of one vault,
// one caller, one address, and comparing bytes is cheaper than hashing
// them. What a key turned into depends on its bytes alone, so the last
// entry stays right when the map starts afresh.
type memo[T any] struct {
	m    map[string]memoEntry[T]
	max  int
	last memoEntry[T]
}

type memoEntry[T any] struct {
	key string // the map's own key, so that remembering it costs nothing
	v   T
}

// maxMemoKey bounds the values a memo keeps, and so its memory; longer
// values (never seen in real logs) are made afresh every time.
const maxMemoKey = 1024

func newMemo[T any](max int) memo[T] {
	return memo[T]{max: max}
}

func (m *memo[T]) get(b []byte) (T, bool) {
	if len(b) > 0 && string(b) == m.last.key {
		return m.last.v, true
	}
	e, ok := m.m[string(b)]
	if ok {
		m.last = e
	}
	return e.v, ok
}

func (m *memo[T]) put(b []byte, v T) {
	if len(b) > maxMemoKey {
		return
	}
	if m.m == nil || len(m.m) >= m.max {
		m.m = make(map[string]memoEntry[T], min(m.max, 64))
	}
	k := string(b)
	m.m[k] = memoEntry[T]{k, v}
}

// arena copies short values unique to each record (correlation ids, which
// interning would only churn) into shared chunks: one allocation per chunk
// instead of one per record. The bytes of a returned string are never
// written again. A receiver that keeps such a string keeps its chunk
// (arenaChunk bytes) alive.
type arena struct {
	buf []byte
}

const (
	arenaChunk = 2048
	arenaMax   = 128 // longer values get their own allocation
)

func (a *arena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaMax {
		return string(b)
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, arenaChunk)
	}
	n := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[n], len(b))
}
