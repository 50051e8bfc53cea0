package azurekv

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"vaultwatch/internal/auditlog/record"
)

// stringEnd and record.StringStop look at the first bytes of a string
// eight at a time (see there), the rest with bytes.IndexByte.

const (
	lsb    = 0x0101010101010101
	msb    = 0x8080808080808080
	quotes = '"' * lsb

	// swarBytes is how far stringEnd looks eight bytes at a time.
	swarBytes = 16
)

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
func stringStop(b []byte, i int) int { return record.StringStop(b, i, false) }
