package azurekv

import (
	"bytes"
	"time"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
)

// fields holds the values of one record, gathered in a single pass over its
// keys whatever its shape, by either of the two readers: the fastjson tree
// (top, prop) or the raw scan of a native record (raw.go). The normalizing
// code reads only these fields, so both readers give the same events. The
// byte slices alias the record and are valid during the decode only.
type fields struct {
	time    value
	timeKey string
	op      []byte
	opKey   string

	resourceID []byte // resourceId, ResourceId, _ResourceId
	resource   []byte // AzureDiagnostics Resource: the vault name
	provider   []byte // AzureDiagnostics ResourceProvider
	category   []byte
	table      []byte // Log Analytics Type

	signature []byte
	// description is nil from the raw reader when it holds an escape and
	// the record has a result signature: then it is never read.
	description []byte
	ip          []byte
	correlation []byte

	id         []byte
	requestURI value // read only when the record has no id
	clientInfo []byte
	status     value
	apMatch    value
	rbac       value

	claims claims

	// The raw reader only: the remembered identity and properties objects
	// (objmemo.go) the record holds, or nil.
	idEntry    *identityEntry
	propsEntry *propsEntry

	// The tree reader only: the properties and identity values, read
	// after the top-level keys (the raw reader reads them in place).
	props    *fastjson.Value
	identity *fastjson.Value
}

// value is a JSON value that may be of more than one type: the time, the
// HTTP status (a number, or numeric text in Log Analytics exports), the
// access-check flags (booleans, or their text), the request URI.
type value struct {
	kind valueKind
	text []byte  // kindString: the text, unescaped
	num  float64 // kindNumber: the number, when numOK
	// numOK is false for a number fastjson's Float64 rejects.
	numOK bool
}

type valueKind uint8

const (
	kindAbsent valueKind = iota
	kindNull
	kindString
	kindNumber
	kindTrue
	kindFalse
	kindOther // an object or an array
)

// treeValue converts a fastjson value.
func treeValue(x *fastjson.Value) value {
	switch x.Type() {
	case fastjson.TypeString:
		b, _ := x.StringBytes()
		return value{kind: kindString, text: b}
	case fastjson.TypeNumber:
		n, err := x.Float64()
		return value{kind: kindNumber, num: n, numOK: err == nil}
	case fastjson.TypeTrue:
		return value{kind: kindTrue}
	case fastjson.TypeFalse:
		return value{kind: kindFalse}
	case fastjson.TypeNull:
		return value{kind: kindNull}
	}
	return value{kind: kindOther}
}

// str returns the text of a string value, or nil.
func (v *value) str() []byte {
	if v.kind != kindString {
		return nil
	}
	return v.text
}

// int returns the value as a number, as record.Int reads it: a number, or
// numeric text ("403", "403.0").
func (v *value) int() (int, bool) {
	switch v.kind {
	case kindNumber:
		if !v.numOK {
			return 0, false
		}
		return int(v.num), true
	case kindString:
		return record.Atoi(v.text)
	}
	return 0, false
}

// bool returns the value as a boolean, as record.Bool reads it: true or
// false, or their text in any case.
func (v *value) bool() (b, ok bool) {
	switch v.kind {
	case kindTrue:
		return true, true
	case kindFalse:
		return false, true
	case kindString:
		switch {
		case eqLowerASCII(v.text, "true"):
			return true, true
		case eqLowerASCII(v.text, "false"):
			return false, true
		}
	}
	return false, false
}

// eqLowerASCII reports whether b, with its ASCII letters lower-cased,
// equals the lower-case ASCII s: what strings.ToLower(string(b)) == s
// says, since no other rune lower-cases to one of s's letters.
func eqLowerASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// timeOf returns the record's time, or the error for a malformed one or,
// naming the field missing, for none. mc is the stream's last minute.
func (f *fields) timeOf(missing string, mc *minuteCache) (time.Time, error) {
	switch f.time.kind {
	case kindAbsent:
		return time.Time{}, record.Missing(missing)
	case kindString:
	default:
		return time.Time{}, record.Invalid(f.timeKey, "a string")
	}
	t, ok := mc.parseTime(f.time.text)
	if !ok || t.IsZero() {
		return time.Time{}, record.Invalid(f.timeKey, "an RFC 3339 time")
	}
	return t, nil
}

func (f *fields) reset() {
	*f = fields{timeKey: "time", opKey: "operationName"}
}

// top reads one top-level key of any of the three shapes.
func (f *fields) top(k []byte, x *fastjson.Value) {
	switch string(k) {
	case "time":
		f.time, f.timeKey = treeValue(x), "time"
	case "TimeGenerated":
		f.time, f.timeKey = treeValue(x), "TimeGenerated"
	case "operationName":
		f.op, f.opKey = str(x), "operationName"
	case "OperationName":
		f.op, f.opKey = str(x), "OperationName"
	case "resourceId", "ResourceId", "_ResourceId":
		setStr(&f.resourceID, str(x))
	case "Resource":
		f.resource = str(x)
	case "ResourceProvider":
		f.provider = str(x)
	case "category", "Category":
		f.category = str(x)
	case "Type":
		f.table = str(x)
	case "resultSignature", "ResultSignature":
		f.signature = str(x)
	case "resultDescription", "ResultDescription":
		f.description = str(x)
	case "callerIpAddress", "CallerIPAddress", "CallerIpAddress":
		f.ip = str(x)
	case "correlationId", "CorrelationId":
		f.correlation = str(x)
	case "identity", "Identity":
		f.identity = x
	case "properties", "Properties":
		if f.props == nil {
			f.props = x
		}
	case "Id", "id_s":
		setStr(&f.id, str(x))
	case "RequestUri", "requestUri_s":
		setVal(&f.requestURI, treeValue(x))
	case "ClientInfo", "clientInfo_s":
		setStr(&f.clientInfo, str(x))
	case "HttpStatusCode", "httpStatusCode_d":
		setVal(&f.status, treeValue(x))
	case "IsAccessPolicyMatch", "isAccessPolicyMatch_b":
		setVal(&f.apMatch, treeValue(x))
	case "IsRbacAuthorized", "isRbacAuthorized_b":
		setVal(&f.rbac, treeValue(x))
	default:
		if c, ok := bytes.CutPrefix(k, []byte("identity_claim_")); ok {
			f.claims.setTree(flatClaimName(c), x)
		}
	}
}

// prop reads one key of the native properties object.
func (f *fields) prop(k []byte, x *fastjson.Value) {
	switch string(k) {
	case "id":
		setStr(&f.id, str(x))
	case "requestUri":
		setVal(&f.requestURI, treeValue(x))
	case "clientInfo":
		setStr(&f.clientInfo, str(x))
	case "httpStatusCode":
		setVal(&f.status, treeValue(x))
	case "isAccessPolicyMatch":
		setVal(&f.apMatch, treeValue(x))
	case "isRbacAuthorized":
		setVal(&f.rbac, treeValue(x))
	}
}

// setStr keeps the first non-empty string among the keys naming one field.
func setStr(dst *[]byte, s []byte) {
	if len(*dst) == 0 {
		*dst = s
	}
}

// setVal keeps the first value that is not null or empty text (Log
// Analytics exports write every column, empty ones as "").
func setVal(dst *value, v value) {
	if dst.kind != kindAbsent {
		return
	}
	switch v.kind {
	case kindNull:
		return
	case kindString:
		if len(v.text) == 0 {
			return
		}
	}
	*dst = v
}

// skip returns a skip error for a well-formed record that is not a Key
// Vault audit event.
func (f *fields) skip() error {
	if len(f.category) > 0 && !isAuditEvent(f.category) {
		return record.Skip("category " + reasonWord(f.category))
	}
	if len(f.provider) > 0 && !bytes.EqualFold(f.provider, []byte(providerKeyVault)) {
		return record.Skip("resource provider " + reasonWord(bytes.ToLower(f.provider)))
	}
	if len(f.table) > 0 && string(f.table) != "AZKVAuditLogs" && string(f.table) != "AzureDiagnostics" {
		return record.Skip("table " + reasonWord(f.table))
	}
	return nil
}

const providerKeyVault = "MICROSOFT.KEYVAULT"

// isAuditEvent reports whether a category is AuditEvent, in any case.
func isAuditEvent(category []byte) bool {
	return string(category) == "AuditEvent" || bytes.EqualFold(category, []byte("AuditEvent"))
}

// reasonWord returns b for a skip reason when it looks like a name, so that
// reasons keep few distinct values; anything else is "other".
func reasonWord(b []byte) string {
	if len(b) > 64 {
		return "other"
	}
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-', c == '_':
		default:
			return "other"
		}
	}
	return string(b)
}

// resourceProvider returns the segment after "/providers/" in an Azure
// resource id, or nil when there is none (masked ids lack it).
func resourceProvider(rid []byte) []byte {
	i := indexFold(rid, "/providers/")
	if i < 0 {
		return nil
	}
	p := rid[i+len("/providers/"):]
	if j := bytes.IndexByte(p, '/'); j >= 0 {
		p = p[:j]
	}
	return p
}

// indexFold is bytes.Index for an ASCII lower-case needle, ignoring the
// case of b.
func indexFold(b []byte, lowerNeedle string) int {
	n := len(lowerNeedle)
	for i := 0; i+n <= len(b); i++ {
		j := 0
		for ; j < n; j++ {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lowerNeedle[j] {
				break
			}
		}
		if j == n {
			return i
		}
	}
	return -1
}
