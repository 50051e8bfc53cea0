package azurekv

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Most strings of a record are short (names, ids, "AuditEvent"): looking
// for their end eight bytes at a time in a register costs less than the
// setup of a vectorised search, which stays for the long ones.

const (
	lsb       = 0x0101010101010101
	msb       = 0x8080808080808080
	quotes    = '"' * lsb
	backslash = '\\' * lsb
)

// swarBytes is how far stringEnd and stringStop look eight bytes at a time
// before they hand the rest of a long string to bytes.IndexByte.
const swarBytes = 16

// stringEnd returns the index of the first '"' at or after i in b, or -1,
// when esc is false (b holds no backslash); else it is stringStop.
func stringEnd(b []byte, i int, esc bool) int {
	if esc {
		return stringStop(b, i)
	}
	for end := i + swarBytes; i+8 <= len(b) && i < end; i += 8 {
		q := binary.LittleEndian.Uint64(b[i:]) ^ quotes
		if t := (q - lsb) &^ q & msb; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
	}
	if n := bytes.IndexByte(b[i:], '"'); n >= 0 {
		return i + n
	}
	return -1
}

// stringStop returns the index of the first '"' or '\\' at or after i in
// b, or -1 when there is none: the end of a string whose text starts at i,
// or its first escape.
func stringStop(b []byte, i int) int {
	for end := i + swarBytes; i+8 <= len(b) && i < end; i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		q := w ^ quotes
		s := w ^ backslash
		// The has-zero-byte trick: the lowest byte flagged is the first
		// byte of w equal to '"' or '\\' (flags above it may be false).
		if t := ((q-lsb)&^q | (s-lsb)&^s) & msb; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
	}
	if i+8 > len(b) {
		for ; i < len(b); i++ {
			if c := b[i]; c == '"' || c == '\\' {
				return i
			}
		}
		return -1
	}
	rest := b[i:]
	n := bytes.IndexByte(rest, '"')
	if n < 0 {
		n = len(rest)
	}
	if m := bytes.IndexByte(rest[:n], '\\'); m >= 0 {
		return i + m
	}
	if n == len(rest) {
		return -1
	}
	return i + n
}
