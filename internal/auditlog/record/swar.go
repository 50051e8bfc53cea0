package record

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Most strings of a record are short (names, ids, "AuditEvent"): looking
// for their end eight bytes at a time in a register (the has-zero-byte
// trick) costs less than the setup of a vectorised search, which stays
// for the long ones, so that no string is read byte by byte.

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// swarBytes is how far StringStop looks eight bytes at a time before it
// hands the rest of a long string to bytes.IndexByte.
const swarBytes = 16

// StringStop returns the index of the first '"' or '\\' at or after i in
// b, and with newline of the first '\n' too, or -1 when there is none: the
// end of a JSON string whose text starts at i, or the first byte that
// stops reading it as plain text.
func StringStop(b []byte, i int, newline bool) int {
	third := uint64('"')
	if newline {
		third = '\n'
	}
	for end := i + swarBytes; i+8 <= len(b) && i < end; i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		q := w ^ ('"' * lsb)
		s := w ^ ('\\' * lsb)
		n := w ^ (third * lsb)
		// The lowest byte flagged is the first byte of w equal to one of
		// them (flags above it may be false).
		if t := ((q-lsb)&^q | (s-lsb)&^s | (n-lsb)&^n) & msb; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
	}
	if i+8 > len(b) {
		for ; i < len(b); i++ {
			if c := b[i]; c == '"' || c == '\\' || newline && c == '\n' {
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
		n = m
	}
	if newline {
		if m := bytes.IndexByte(rest[:n], '\n'); m >= 0 {
			n = m
		}
	}
	if n == len(rest) {
		return -1
	}
	return i + n
}
