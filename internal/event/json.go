package event

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends e as one JSON object, the same document encoding/json
// makes of it, without reflection or allocation. It is the hot path of
// `vaultwatch scan --events -o jsonl`.
func (e *Event) AppendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = appendTime(b, e.Time)
	b = append(b, '"')
	b = appendField(b, "provider", string(e.Provider), false)
	b = appendField(b, "format", string(e.Format), false)
	b = append(b, `,"vault":{`...)
	b = appendField(b, "id", e.Vault.ID, true)
	b = appendField(b, "name", e.Vault.Name, false)
	b = append(b, `},"operation":{`...)
	b = appendField(b, "name", e.Operation.Name, true)
	b = appendField(b, "class", string(e.Operation.Class), false)
	b = appendOpt(b, "detail", e.Operation.Detail, false)
	b = append(b, '}')
	if e.Object != (Object{}) {
		b = append(b, `,"object":{`...)
		n := len(b)
		b = appendOpt(b, "kind", string(e.Object.Kind), len(b) == n)
		b = appendOpt(b, "name", e.Object.Name, len(b) == n)
		b = appendOpt(b, "version", e.Object.Version, len(b) == n)
		b = append(b, '}')
	}
	b = append(b, `,"caller":{`...)
	n := len(b)
	c := &e.Caller
	b = appendOpt(b, "type", string(c.Type), len(b) == n)
	b = appendOpt(b, "object_id", c.ObjectID, len(b) == n)
	b = appendOpt(b, "upn", c.UPN, len(b) == n)
	b = appendOpt(b, "app_id", c.AppID, len(b) == n)
	b = appendOpt(b, "tenant_id", c.TenantID, len(b) == n)
	b = appendOpt(b, "display_name", c.DisplayName, len(b) == n)
	b = appendOpt(b, "resource_id", c.ResourceID, len(b) == n)
	b = appendOpt(b, "vault_entity_id", c.VaultEntityID, len(b) == n)
	b = appendOpt(b, "token_accessor", c.TokenAccessor, len(b) == n)
	if len(c.Policies) > 0 {
		if len(b) != n {
			b = append(b, ',')
		}
		b = append(b, `"policies":[`...)
		for i, p := range c.Policies {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, p)
		}
		b = append(b, ']')
	}
	b = appendOpt(b, "arn", c.ARN, len(b) == n)
	b = appendOpt(b, "access_key_id", c.AccessKeyID, len(b) == n)
	b = appendOpt(b, "account_id", c.AccountID, len(b) == n)
	b = appendOpt(b, "principal_email", c.PrincipalEmail, len(b) == n)
	b = appendOpt(b, "invoked_by", c.InvokedBy, len(b) == n)
	if c.Privileged {
		if len(b) != n {
			b = append(b, ',')
		}
		b = append(b, `"privileged":true`...)
	}
	b = append(b, '}')
	if e.IP.IsValid() {
		b = append(b, `,"ip":"`...)
		b = e.IP.AppendTo(b)
		b = append(b, '"')
	}
	b = appendOpt(b, "host", e.Host, false)
	b = appendOpt(b, "user_agent", e.UserAgent, false)
	b = appendOpt(b, "correlation_id", e.CorrelationID, false)
	b = append(b, `,"result":{`...)
	b = appendField(b, "outcome", string(e.Result.Outcome), true)
	if e.Result.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(e.Result.Status), 10)
	}
	b = appendOpt(b, "reason", e.Result.Reason, false)
	b = append(b, `},"source":{`...)
	n = len(b)
	s := &e.Source
	b = appendOpt(b, "file", s.File, true)
	if s.Line != 0 {
		if len(b) != n {
			b = append(b, ',')
		}
		b = append(b, `"line":`...)
		b = strconv.AppendInt(b, s.Line, 10)
	}
	b = appendOpt(b, "source", s.Source, len(b) == n)
	if s.Offset != 0 {
		if len(b) != n {
			b = append(b, ',')
		}
		b = append(b, `"offset":`...)
		b = strconv.AppendInt(b, s.Offset, 10)
	}
	return append(b, '}', '}')
}

// appendField appends "key":"value", after a comma unless first.
func appendField(b []byte, key, value string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendOpt is appendField for omitempty fields.
func appendOpt(b []byte, key, value string, first bool) []byte {
	if value == "" {
		return b
	}
	return appendField(b, key, value, first)
}

const hex = "0123456789abcdef"

// safe marks the bytes a JSON string holds as they are: printable ASCII
// but for the quote, the backslash and the HTML characters encoding/json
// escapes.
var safe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string, escaping as encoding/json does
// (HTML characters included) and replacing invalid UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if safe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendTime appends t in UTC as time.RFC3339Nano does, without its layout
// interpreter.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	h, mi, s := t.Clock()
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10))
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z')
}
