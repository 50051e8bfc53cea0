package record

import (
	"net/netip"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Interner returns one shared string for each distinct byte sequence it is
// given, so that repeated values (vault names, object ids, IPs, operation
// names) cost no allocation after the first sighting. It is bounded: when it
// holds Max entries it starts afresh, and Resets counts how often.
type Interner struct {
	m      map[string]string
	Max    int
	Resets int
}

// DefaultInternMax bounds an Interner whose Max is zero.
const DefaultInternMax = 1 << 16

// Bytes returns b as an interned string; "" for an empty b.
func (in *Interner) Bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	max := in.Max
	if max <= 0 {
		max = DefaultInternMax
	}
	if in.m == nil || len(in.m) >= max {
		if in.m != nil {
			in.Resets++
		}
		in.m = make(map[string]string, 1024)
	}
	s := string(b)
	in.m[s] = s
	return s
}

// String interns s.
func (in *Interner) String(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.m[s]; ok {
		return v
	}
	return in.Bytes([]byte(s))
}

// Lower interns the lower-case form of b without allocating when b is
// already known in that form.
func (in *Interner) Lower(b []byte) string {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			var buf [256]byte
			var lb []byte
			if len(b) <= len(buf) {
				lb = buf[:len(b)]
			} else {
				lb = make([]byte, len(b))
			}
			for i, c := range b {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				lb[i] = c
			}
			return in.Bytes(lb)
		}
	}
	return in.Bytes(b)
}

// Str returns the string bytes at the path, or nil when the value is absent
// or not a string.
func Str(v *fastjson.Value, keys ...string) []byte {
	x := v.Get(keys...)
	if x == nil || x.Type() != fastjson.TypeString {
		return nil
	}
	b, _ := x.StringBytes()
	return b
}

// Int returns the number at the path, accepting a number or a numeric
// string (Log Analytics exports write doubles, Azure writes durations as
// strings). ok is false when the value is absent or not a number.
func Int(v *fastjson.Value, keys ...string) (n int, ok bool) {
	x := v.Get(keys...)
	if x == nil {
		return 0, false
	}
	switch x.Type() {
	case fastjson.TypeNumber:
		f, err := x.Float64()
		if err != nil {
			return 0, false
		}
		return int(f), true
	case fastjson.TypeString:
		b, _ := x.StringBytes()
		return Atoi(b)
	}
	return 0, false
}

// Atoi reads a number written as text, as logs write status codes:
// decimal digits, with an optional zero fraction ("403.0"); false for
// anything else or anything over about a billion.
func Atoi(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for i, c := range b {
		if c == '.' && i > 0 { // "403.0"
			for _, d := range b[i+1:] {
				if d != '0' {
					return 0, false
				}
			}
			return n, true
		}
		if c < '0' || c > '9' || n > 1e9 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Bool returns the boolean at the path; ok is false when it is absent. A
// string "true"/"false" (Log Analytics) is accepted.
func Bool(v *fastjson.Value, keys ...string) (b, ok bool) {
	x := v.Get(keys...)
	if x == nil {
		return false, false
	}
	switch x.Type() {
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	case fastjson.TypeString:
		s, _ := x.StringBytes()
		switch strings.ToLower(string(s)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// ParseTime parses the timestamps the formats write: RFC 3339 with any
// number of fractional digits, with or without a zone ("2024-04-03T14:03:10.7886260Z",
// "2024-04-03T14:03:10.788626+00:00", "2023-07-10 12:00:00" as reshaped
// CloudTrail), and the Log Analytics portal's CSV form "4/3/2024,
// 2:03:10.788 PM" (UTC, as its "TimeGenerated [UTC]" header says). The
// result is in UTC; a time without a zone is taken as UTC.
func ParseTime(b []byte) (time.Time, bool) {
	if len(b) < 19 || len(b) > 40 {
		return time.Time{}, false
	}
	if b[4] != '-' {
		return parsePortalTime(b)
	}
	var buf [40]byte
	s := buf[:len(b)]
	copy(s, b)
	if s[10] == ' ' {
		s[10] = 'T'
	}
	str := unsafeString(s)
	t, err := time.Parse(time.RFC3339Nano, str)
	if err != nil {
		// No zone: assume UTC.
		t, err = time.Parse("2006-01-02T15:04:05.999999999", str)
		if err != nil {
			return time.Time{}, false
		}
	}
	return t.UTC(), true
}

// ParseAddr parses a caller address. It returns the address when b is an
// IPv4 or IPv6 address (with or without a port, brackets or zone), and
// otherwise the text as host ("AWS Internal", "secretsmanager.amazonaws.com").
func ParseAddr(in *Interner, b []byte) (netip.Addr, string) {
	if len(b) == 0 {
		return netip.Addr{}, ""
	}
	s := unsafeString(b)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), ""
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), ""
	}
	return netip.Addr{}, in.Bytes(b)
}

// parsePortalTime parses "11/20/2026, 9:12:41.091 AM".
func parsePortalTime(b []byte) (time.Time, bool) {
	for _, layout := range [...]string{"1/2/2006, 3:04:05.999999999 PM", "1/2/2006 3:04:05.999999999 PM"} {
		if t, err := time.Parse(layout, unsafeString(b)); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped. Invalid UTF-8 is kept as it is: the reader
// checks every record for it. Formats that are not JSON (CSV exports, Vault's
// jsonx) are turned into JSON records with it.
func AppendJSONString(out []byte, s string) []byte {
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c == '\t':
			out = append(out, '\\', 't')
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}
