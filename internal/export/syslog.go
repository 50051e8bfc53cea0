package export

import (
	"errors"
	"fmt"
	"strconv"

	"vaultwatch/internal/alert"
)

// Syslog defaults.
const (
	// DefaultFacility is local4.
	DefaultFacility = 20
	DefaultAppName  = "vaultwatch"
	// SDID is the structured-data element vaultwatch writes: the RFC 5612
	// documentation enterprise number, so that no registered one is
	// claimed.
	SDID = "vaultwatch@32473"
)

// Syslog frames records as RFC 5424 messages with RFC 6587 octet counting,
// for syslog over TCP or TLS:
//
//	LEN SP <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG
//
// PRI is Facility*8 plus the alert's severity (high 2 critical, medium 4
// warning, low 5 notice, else 6 informational); TIMESTAMP is the record's
// time in UTC with microseconds; MSGID is the record's kind; SD is
// [vaultwatch@32473 key="..." alert="..." seq="..." status="..."]; MSG is
// the Body's encoding of the record (CEF or JSON), without a BOM.
type Syslog struct {
	// Facility is 0-23 (default local4, 20, when Validate or NewSyslog
	// filled it).
	Facility int
	// Hostname names this host; "" writes "-".
	Hostname string
	// AppName is the APP-NAME (default "vaultwatch").
	AppName string
	// ProcID is the PROCID; "" writes "-".
	ProcID string
	// Body encodes the message (default CEF).
	Body Format
}

// SyslogSeverity maps an alert severity to a syslog severity.
func SyslogSeverity(s alert.Severity) int {
	switch severityRank(s) {
	case 1:
		return 5
	case 2:
		return 4
	case 3:
		return 2
	}
	return 6
}

// Validate reports a facility out of range.
func (s *Syslog) Validate() error {
	if s.Facility < 0 || s.Facility > 23 {
		return fmt.Errorf("syslog facility %d out of range 0-23", s.Facility)
	}
	return nil
}

// appendHeaderField appends s as an RFC 5424 header field: printable
// US-ASCII without spaces, at most max octets; "-" when empty.
func appendHeaderField(dst []byte, s string, max int) []byte {
	n := 0
	for i := 0; i < len(s) && n < max; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		dst = append(dst, c)
		n++
	}
	if n == 0 {
		dst = append(dst, '-')
	}
	return dst
}

// appendSDValue appends s as an RFC 5424 PARAM-VALUE: '"', '\' and ']' are
// escaped with a backslash, and control characters (a line break would
// split the message for line-oriented receivers) become '_'.
func appendSDValue(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == ']':
			dst = append(dst, '\\', c)
		case c < 0x20 || c == 0x7f:
			dst = append(dst, '_')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// validSDValue reports whether appendSDValue would copy s unchanged.
func validSDValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == ']' {
			return false
		}
	}
	return true
}

// AppendMessage appends r as one RFC 5424 message, without framing.
func (s *Syslog) AppendMessage(dst []byte, r *Record) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return dst, err
	}
	body := s.Body
	if body == nil {
		body = CEF{}
	}
	pri := s.Facility*8 + SyslogSeverity(r.Alert.Severity)
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(pri), 10)
	dst = append(dst, ">1 "...)
	at := r.At
	if at.IsZero() {
		at = r.Alert.EndTime
	}
	if at.IsZero() {
		dst = append(dst, '-')
	} else {
		dst = at.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z07:00")
	}
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, s.Hostname, 255)
	dst = append(dst, ' ')
	app := s.AppName
	if app == "" {
		app = DefaultAppName
	}
	dst = appendHeaderField(dst, app, 48)
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, s.ProcID, 128)
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, r.Kind, 32)
	dst = append(dst, " ["+SDID+` key="`...)
	if validSDValue(r.Alert.ID) && validSDValue(r.Kind) {
		dst = r.AppendIdempotencyKey(dst)
	} else {
		dst = appendSDValue(dst, r.IdempotencyKey())
	}
	dst = append(dst, `" alert="`...)
	dst = appendSDValue(dst, r.Alert.ID)
	dst = append(dst, `" seq="`...)
	dst = strconv.AppendInt(dst, r.Seq, 10)
	if r.Status != "" {
		dst = append(dst, `" status="`...)
		dst = appendSDValue(dst, r.Status)
	}
	dst = append(dst, `"] `...)
	return body.Append(dst, r)
}

// AppendFrame appends r as one octet-counted frame: the message's length
// in decimal, a space, the message.
func (s *Syslog) AppendFrame(dst []byte, r *Record) ([]byte, error) {
	// Encode the message after room for the longest length prefix, then
	// move it next to its actual prefix.
	const room = 20
	start := len(dst)
	dst = append(dst, make([]byte, room)...)
	out, err := s.AppendMessage(dst, r)
	if err != nil {
		return dst[:start], err
	}
	n := len(out) - start - room
	var pfx [room]byte
	p := strconv.AppendInt(pfx[:0], int64(n), 10)
	p = append(p, ' ')
	copy(out[start:], p)
	copy(out[start+len(p):], out[start+room:])
	return out[:start+len(p)+n], nil
}

// ErrFrame is returned by ReadFrame for a malformed frame.
var ErrFrame = errors.New("malformed syslog frame")

// ReadFrame splits one octet-counted frame off the front of b: it returns
// the message and the rest. It returns (nil, b, nil) when b does not hold
// a whole frame yet, and an error wrapping ErrFrame when the length is not
// a decimal number of at most max octets followed by a space.
func ReadFrame(b []byte, max int) (msg, rest []byte, err error) {
	n := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9' && !(i == 0 && c == '0'):
			n = n*10 + int(c-'0')
			if n > max {
				return nil, b, fmt.Errorf("%w: length over %d", ErrFrame, max)
			}
		case c == ' ' && i > 0:
			if len(b)-i-1 < n {
				return nil, b, nil
			}
			return b[i+1 : i+1+n], b[i+1+n:], nil
		default:
			return nil, b, fmt.Errorf("%w: byte %d of the length is %q", ErrFrame, i, c)
		}
	}
	return nil, b, nil
}
