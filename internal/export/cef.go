package export

import (
	"strconv"

	"vaultwatch/internal/alert"
)

// CEF encodes a record as an ArcSight Common Event Format line:
//
//	CEF:0|vaultwatch|vaultwatch|VERSION|TYPE|TITLE|SEVERITY|EXTENSIONS
//
// SEVERITY is low 3, medium 6, high 8 (0 when unknown). The extensions are
// rt (the record's time), start and end (the alert's window), cnt (events),
// src (first address), suser (user name), suid (principal id),
// requestClientApplication (first user agent), cs1 vault id, cs2 alert id,
// cs3 vault name, cs4 idempotency key, cs5 ATT&CK technique, cs6 suppression
// rule, cn1 the record's Seq, externalId the alert id, cat the record kind,
// act the status, outcome the most frequent outcome of the caller's calls,
// flexString1 who changed the status and reason their comment (status
// records), msg the explanation. Times are milliseconds since the epoch. Header fields
// escape "\" and "|"; extension values escape "\", "=" and newlines (see
// AppendCEFHeader and AppendCEFValue).
type CEF struct {
	// ProductVersion is the vaultwatch release (the header's version).
	ProductVersion string
}

var _ Format = CEF{}

// Name returns "cef".
func (CEF) Name() string { return FormatCEF }

// JSON returns false.
func (CEF) JSON() bool { return false }

// CEFSeverity maps an alert severity to CEF's 0-10 scale.
func CEFSeverity(s alert.Severity) int {
	switch severityRank(s) {
	case 1:
		return 3
	case 2:
		return 6
	case 3:
		return 8
	}
	return 0
}

// AppendCEFHeader appends s escaped for a CEF header field: "\" and "|"
// get a backslash, and a newline or carriage return (not allowed in a
// header) becomes a space.
func AppendCEFHeader(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '|':
			dst = append(dst, '\\', c)
		case '\n', '\r':
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// AppendCEFValue appends s escaped for a CEF extension value: "\" and "="
// get a backslash, a newline becomes "\n" and a carriage return "\r".
// ("|" needs no escape in extensions.)
func AppendCEFValue(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '=':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

type cefExt struct {
	dst []byte
	n   int
}

func (e *cefExt) str(key, v string) {
	if v == "" {
		return
	}
	if e.n > 0 {
		e.dst = append(e.dst, ' ')
	}
	e.n++
	e.dst = append(e.dst, key...)
	e.dst = append(e.dst, '=')
	e.dst = AppendCEFValue(e.dst, v)
}

func (e *cefExt) num(key string, v int64) {
	if e.n > 0 {
		e.dst = append(e.dst, ' ')
	}
	e.n++
	e.dst = append(e.dst, key...)
	e.dst = append(e.dst, '=')
	e.dst = strconv.AppendInt(e.dst, v, 10)
}

func (e *cefExt) label(n int, label, v string) {
	if v == "" {
		return
	}
	e.str("cs"+strconv.Itoa(n)+"Label", label)
	e.str("cs"+strconv.Itoa(n), v)
}

// mostFrequent is the key with the largest count, the smallest key on ties.
func mostFrequent(m map[string]int) string {
	best, n := "", 0
	for k, c := range m {
		if c > n || (c == n && k < best) {
			best, n = k, c
		}
	}
	return best
}

// Append appends r as one CEF line.
func (c CEF) Append(dst []byte, r *Record) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return dst, err
	}
	a := &r.Alert
	dst = append(dst, "CEF:0|vaultwatch|vaultwatch|"...)
	v := c.ProductVersion
	if v == "" {
		v = "dev"
	}
	dst = AppendCEFHeader(dst, v)
	dst = append(dst, '|')
	dst = AppendCEFHeader(dst, string(a.Type))
	dst = append(dst, '|')
	dst = AppendCEFHeader(dst, a.Title)
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, int64(CEFSeverity(a.Severity)), 10)
	dst = append(dst, '|')

	e := cefExt{dst: dst}
	at := r.At
	if at.IsZero() {
		at = a.EndTime
	}
	if !at.IsZero() {
		e.num("rt", at.UnixMilli())
	}
	if !a.StartTime.IsZero() {
		e.num("start", a.StartTime.UnixMilli())
	}
	if !a.EndTime.IsZero() {
		e.num("end", a.EndTime.UnixMilli())
	}
	e.num("cnt", int64(a.Count))
	if len(a.Entities.IPs) > 0 {
		e.str("src", a.Entities.IPs[0].Address)
	}
	if u := ocsfUserOf(&a.Entities); u != nil {
		e.str("suser", u.Name)
		e.str("suid", u.UID)
	}
	e.str("requestClientApplication", first(a.Entities.UserAgents))
	e.label(1, "vaultId", a.Vault.ID)
	e.label(2, "alertId", a.ID)
	e.label(3, "vaultName", a.Vault.Name)
	e.label(4, "idempotencyKey", r.IdempotencyKey())
	e.label(5, "technique", a.Technique)
	e.label(6, "suppressedBy", r.SuppressedBy)
	e.str("cn1Label", "seq")
	e.num("cn1", r.Seq)
	e.str("externalId", a.ID)
	e.str("cat", r.Kind)
	e.str("act", r.Status)
	e.str("outcome", mostFrequent(a.Evidence.Outcomes))
	if r.Change != nil {
		e.str("flexString1Label", "changedBy")
		e.str("flexString1", r.Change.By)
		e.str("reason", r.Change.Comment)
	}
	e.str("msg", a.Explanation)
	return e.dst, nil
}
