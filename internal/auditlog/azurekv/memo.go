package azurekv

import "bytes"

// last remembers what the previous record's raw value turned into. Records
// of one stream mostly repeat the vault, caller, user agent and address of
// the record before, so comparing bytes with the last value spares the
// parsing, lower-casing and interning that made it.
type last[T any] struct {
	raw []byte
	val T
	ok  bool
}

func (l *last[T]) get(b []byte) (T, bool) {
	if l.ok && bytes.Equal(b, l.raw) {
		return l.val, true
	}
	var zero T
	return zero, false
}

func (l *last[T]) put(b []byte, v T) {
	l.raw = append(l.raw[:0], b...)
	l.val = v
	l.ok = true
}
