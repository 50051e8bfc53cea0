package record

import "unsafe"

// unsafeString views b as a string for a call that does not keep it
// (time.Parse, netip.ParseAddr copy nothing they return... except errors,
// which callers here discard).
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
