package azurekv

import (
	"bytes"
	"unsafe"

	"github.com/valyala/fastjson/fastfloat"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// The raw reader: the native AuditEvent record (storage blobs PT1H.json,
// Event Hubs) read in one pass over its bytes, without building a tree.
// It walks the top-level object, identity.claim and properties, keeps the
// values the decoder reads (strings as they are written), and skips every
// other value, checking its syntax as it goes.
//
// It reads only what it is sure of, and otherwise declines: a key of the
// objects it walks or a value it reads that holds an escape (except a
// result description it will not read), a key it reads twice, a value of
// an unexpected type, a key of another shape (AzureDiagnostics and
// AZKVAuditLogs columns, other formats' keys), a category other than
// AuditEvent (activity log, other Azure logs), an identity object without
// claim, a number outside JSON's strict grammar, nesting deeper than
// maxRawDepth, any syntax error. The tree reader (Decode) then reads the
// record and stays the reference: the raw reader accepts only records
// fastjson and Detect accept, and gives the same events and errors for
// them (TestDecodeRawMatchesTree, FuzzDecodeRawMatchesTree).
//
// It remembers the identity and properties objects it read last
// (objmemo.go): a record that repeats one is read with one comparison of
// bytes there, and the decoder takes the caller or object it made of it
// before (TestDecodeRawRepeats).

// maxRawDepth bounds the nesting the raw reader follows (fastjson's bound
// is 300; deeper records are left to it).
const maxRawDepth = 64

var _ record.RawDecoder = (*Decoder)(nil)

// DecodeRaw decodes rec, one JSON record, when it is a native AuditEvent
// record the raw reader is sure of, and reports false otherwise: then
// nothing was emitted and the caller must parse rec and call Decode. When
// ok is true, err is what Decode would return for rec.
func (d *Decoder) DecodeRaw(rec []byte, loc event.Location, emit record.Emit) (ok bool, err error) {
	f := &d.f
	f.reset()
	if !f.scanNative(rec, &d.shape) {
		return false, nil
	}
	return true, d.decode(loc, emit)
}

// Keys of the native record the raw reader reads, one bit each, to find
// keys written twice: top-level keys, then those of properties.
const (
	seenTime = 1 << iota
	seenOp
	seenResourceID
	seenCategory
	seenSignature
	seenDescription
	seenIP
	seenCorrelation
	seenIdentity
	seenProps
	seenClaim
	seenID
	seenRequestURI
	seenClientInfo
	seenStatus
	seenAPMatch
	seenRBAC
)

// The objects the raw reader walks.
const (
	inTop = iota
	inIdentity
	inClaim
	inProps
)

// scanNative reads the native record b into f. It reports false when b is
// not a record it is sure of (see above); f is then to be reset. sh is the
// memory of the stream's records (objmemo.go).
//
// It is one loop over the members of the four objects it walks (the
// record, identity, identity.claim, properties), with the common tokens
// read inline.
func (f *fields) scanNative(b []byte, sh *shape) bool {
	var seen uint
	descEscaped := false
	in := inTop
	// Most records hold no backslash at all: one look at the whole
	// record spares looking for escapes in each string.
	esc := bytes.IndexByte(b, '\\') >= 0
	i := ws(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = ws(b, i+1)
	var idFrom, propsFrom int // where identity and properties start
	for {
		// A member: its key (without escapes: the tree reader would
		// unescape them), a colon, and the value at b[i].
		if i >= len(b) || b[i] != '"' {
			return false // also an empty record: no operationName
		}
		i++
		j := stringEnd(b, i, esc)
		if j < 0 || b[j] != '"' {
			return false
		}
		k := b[i:j:j]
		i = ws(b, j+1)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = ws(b, i+1)
		if i >= len(b) {
			return false
		}

		var bit uint
		switch in {
		case inTop:
			switch string(k) {
			case "time":
				bit = seenTime
				f.time.kind = kindString
				f.time.text, i = rawString(b, i, esc)
			case "operationName":
				bit = seenOp
				f.op, i = rawString(b, i, esc)
			case "resourceId":
				bit = seenResourceID
				f.resourceID, i = rawString(b, i, esc)
			case "category":
				bit = seenCategory
				f.category, i = rawString(b, i, esc)
				if len(f.category) > 0 && !isAuditEvent(f.category) {
					return false // activity log, other Azure logs
				}
			case "resultSignature":
				bit = seenSignature
				f.signature, i = rawString(b, i, esc)
			case "resultDescription":
				bit = seenDescription
				f.description, descEscaped, i = rawText(b, i)
			case "callerIpAddress":
				bit = seenIP
				f.ip, i = rawString(b, i, esc)
			case "correlationId":
				bit = seenCorrelation
				f.correlation, i = rawString(b, i, esc)
			case "identity":
				// null for an unauthenticated call, else an object that
				// must hold a claim (checked when it closes).
				if b[i] == 'n' {
					bit = seenIdentity
					i = literal(b, i, "null")
					break
				}
				if b[i] != '{' || seen&seenIdentity != 0 {
					return false
				}
				seen |= seenIdentity
				if e, n := sh.ids.find(b, i); e != nil {
					if !e.callerOK {
						// Else the claims are not read: the caller
						// is the one made of them before.
						e.restore(b, i, &f.claims)
					}
					f.idEntry = e
					seen |= seenClaim
					i += n
					break
				}
				idFrom = i
				if in, i = inIdentity, ws(b, i+1); i < len(b) && b[i] != '}' {
					continue
				}
			case "properties":
				if b[i] == 'n' {
					bit = seenProps
					i = literal(b, i, "null")
					break
				}
				if b[i] != '{' || seen&seenProps != 0 {
					return false
				}
				seen |= seenProps
				if e, n := sh.props.find(b, i); e != nil {
					e.restore(b, i, f)
					f.propsEntry = e
					seen |= e.seen
					i += n
					break
				}
				propsFrom = i
				if in, i = inProps, ws(b, i+1); i < len(b) && b[i] != '}' {
					continue
				}
			default:
				if otherShape(k) {
					return false
				}
				i = skip(b, i, esc, 1)
			}
		case inIdentity:
			if string(k) != "claim" {
				i = skip(b, i, esc, 2)
				break
			}
			if b[i] != '{' || seen&seenClaim != 0 {
				return false
			}
			seen |= seenClaim
			if in, i = inClaim, ws(b, i+1); i < len(b) && b[i] != '}' {
				continue
			}
		case inClaim:
			// As in the tree reader, a claim written twice keeps its last
			// non-empty string, and one that is not a string is ignored.
			if dst := f.claims.field(k); dst != nil && b[i] == '"' {
				var v []byte
				if v, i = rawString(b, i, esc); len(v) > 0 {
					*dst = v
				}
			} else {
				i = skip(b, i, esc, 3)
			}
		case inProps:
			switch string(k) {
			case "id":
				bit = seenID
				f.id, i = rawString(b, i, esc)
			case "requestUri":
				bit = seenRequestURI
				i = rawValue(b, i, esc, &f.requestURI)
			case "clientInfo":
				bit = seenClientInfo
				f.clientInfo, i = rawString(b, i, esc)
			case "httpStatusCode":
				bit = seenStatus
				i = rawValue(b, i, esc, &f.status)
			case "isAccessPolicyMatch":
				bit = seenAPMatch
				i = rawValue(b, i, esc, &f.apMatch)
			case "isRbacAuthorized":
				bit = seenRBAC
				i = rawValue(b, i, esc, &f.rbac)
			default:
				i = skip(b, i, esc, 2)
			}
		}
		if i < 0 || seen&bit != 0 {
			return false
		}
		seen |= bit

		// After the value: a comma and the next member, or the end of
		// objects.
		for {
			i = ws(b, i)
			if i >= len(b) {
				return false
			}
			if b[i] == ',' {
				break
			}
			if b[i] != '}' {
				return false
			}
			i++
			switch in {
			case inTop:
				return ws(b, i) == len(b) && f.native(seen, descEscaped)
			case inClaim:
				in = inIdentity
			case inIdentity:
				if seen&seenClaim == 0 {
					return false
				}
				in = inTop
				f.idEntry = sh.rememberIdentity(b, idFrom, i, &f.claims)
			case inProps:
				in = inTop
				f.propsEntry = sh.rememberProps(b, propsFrom, i, f, seen)
			}
		}
		i = ws(b, i+1)
	}
}

// otherShape reports whether a top-level key is one of another format
// (Detect says no) or a column of the Log Analytics shapes, which the tree
// reader merges with the native keys.
func otherShape(k []byte) bool {
	switch string(k) {
	case "eventSource", "protoPayload", "type",
		"TimeGenerated", "OperationName", "ResourceId", "_ResourceId", "Resource",
		"ResourceProvider", "Category", "Type", "ResultSignature", "ResultDescription",
		"CallerIPAddress", "CallerIpAddress", "CorrelationId", "Identity", "Properties",
		"Id", "id_s", "RequestUri", "requestUri_s", "ClientInfo", "clientInfo_s",
		"HttpStatusCode", "httpStatusCode_d", "IsAccessPolicyMatch", "isAccessPolicyMatch_b",
		"IsRbacAuthorized", "isRbacAuthorized_b":
		return true
	}
	return bytes.HasPrefix(k, []byte("identity_claim_"))
}

// native checks, once the record is read, what Detect asks of a native
// record.
func (f *fields) native(seen uint, descEscaped bool) bool {
	if descEscaped {
		// Denied calls write a description of several lines. It is read
		// only for a failure without result signature (result.go), a
		// record left to the tree reader, which unescapes it.
		if len(bytes.TrimSpace(f.signature)) == 0 {
			return false
		}
		f.description = nil
	}
	// The category, when there is one, is AuditEvent (read above).
	return seen&seenOp != 0 && (seen&seenResourceID != 0 || len(f.category) > 0)
}

// skip returns the index after the value at b[i], as skipValue, with a
// string, the most common case, read inline. esc says the record holds a
// backslash.
func skip(b []byte, i int, esc bool, depth int) int {
	if b[i] == '"' {
		if j := stringEnd(b, i+1, esc); j >= 0 && b[j] == '"' {
			return j + 1
		}
		return skipString(b, i+1)
	}
	return skipValue(b, i, depth)
}

// after reads what follows an object member or an array element at b[i]
// (i < 0 passes an error on): after a comma, it returns the index of the
// next one and true; at the closing byte end, the index after it and
// false; else -1.
func after(b []byte, i int, end byte) (int, bool) {
	if i < 0 {
		return -1, false
	}
	i = ws(b, i)
	if i >= len(b) {
		return -1, false
	}
	switch b[i] {
	case ',':
		return ws(b, i+1), true
	case end:
		return i + 1, false
	}
	return -1, false
}

// ws returns the index of the first byte at or after i that is not JSON
// white space.
func ws(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i
	}
	if i+1 < len(b) && b[i] == ' ' && b[i+1] > ' ' {
		return i + 1 // ", " and ": " in the records Azure writes
	}
	return wsSlow(b, i)
}

func wsSlow(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\n', '\t', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// rawString reads the string at b[i], which must be one without escapes,
// and returns its text and the index after it, or -1. esc says the record
// holds a backslash.
func rawString(b []byte, i int, esc bool) ([]byte, int) {
	if b[i] != '"' {
		return nil, -1
	}
	i++
	j := stringEnd(b, i, esc)
	if j < 0 || b[j] != '"' {
		return nil, -1
	}
	return b[i:j:j], j + 1
}

// rawText reads the string at b[i], escapes or not, and returns its text
// as written, whether it holds an escape, and the index after it, or -1.
func rawText(b []byte, i int) (text []byte, escaped bool, end int) {
	if i >= len(b) || b[i] != '"' {
		return nil, false, -1
	}
	if j := stringStop(b, i+1); j >= 0 && b[j] == '"' {
		return b[i+1 : j : j], false, j + 1
	}
	end = skipString(b, i+1)
	if end < 0 {
		return nil, false, -1
	}
	return b[i+1 : end-1 : end-1], true, end
}

// rawValue reads the value at b[i] into dst, as setVal keeps it, and
// returns the index after it, or -1.
func rawValue(b []byte, i int, esc bool, dst *value) int {
	if i >= len(b) {
		return -1
	}
	var v value
	switch c := b[i]; {
	case c == '"':
		v.kind = kindString
		v.text, i = rawString(b, i, esc)
	case c == 't':
		v.kind, i = kindTrue, literal(b, i, "true")
	case c == 'f':
		v.kind, i = kindFalse, literal(b, i, "false")
	case c == 'n':
		v.kind, i = kindNull, literal(b, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		start := i
		if i = skipNumber(b, i); i >= 0 {
			n, err := fastfloat.Parse(unsafe.String(&b[start], i-start))
			v = value{kind: kindNumber, num: n, numOK: err == nil}
		}
	default:
		v.kind = kindOther
		i = skipValue(b, i, 2)
	}
	setVal(dst, v)
	return i
}

// skipValue returns the index after the JSON value at b[i], or -1 when
// it is not one, or nests deeper than maxRawDepth. depth is the nesting of
// the object or array holding it.
func skipValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i+1)
	case '{':
		if depth >= maxRawDepth {
			return -1
		}
		i = ws(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for more := true; more; {
			if i >= len(b) || b[i] != '"' {
				return -1
			}
			if i = skipString(b, i+1); i < 0 {
				return -1
			}
			if i = ws(b, i); i >= len(b) || b[i] != ':' {
				return -1
			}
			i = skipValue(b, ws(b, i+1), depth+1)
			if i, more = after(b, i, '}'); i < 0 {
				return -1
			}
		}
		return i
	case '[':
		if depth >= maxRawDepth {
			return -1
		}
		i = ws(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for more := true; more; {
			i = skipValue(b, i, depth+1)
			if i, more = after(b, i, ']'); i < 0 {
				return -1
			}
		}
		return i
	case 't':
		return literal(b, i, "true")
	case 'f':
		return literal(b, i, "false")
	case 'n':
		return literal(b, i, "null")
	}
	return skipNumber(b, i)
}

func literal(b []byte, i int, lit string) int {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return -1
	}
	return i + len(lit)
}

// skipString returns the index after the string whose text starts at
// b[i], or -1. Escapes are skipped as fastjson does, without checking
// them: a quote is escaped when an odd number of backslashes precede it,
// that is when a backslash, read from the left, takes it as the byte it
// escapes.
func skipString(b []byte, i int) int {
	for {
		j := stringStop(b, i)
		if j < 0 {
			return -1
		}
		if b[j] == '"' {
			return j + 1
		}
		i = j + 2 // the backslash and the byte it escapes
		if i > len(b) {
			return -1
		}
	}
}

// skipNumber returns the index after the number at b[i] in JSON's strict
// grammar, or -1 (fastjson reads more: "NaN", "1.2.3"; such records are
// left to it).
func skipNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = digitsEnd(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digitsEnd(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digitsEnd(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digitsEnd(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}
