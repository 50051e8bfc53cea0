package azurekv

import (
	"bytes"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
)

// fields holds the values of one record, gathered in a single pass over its
// keys whatever its shape. The byte slices alias the parsed record and are
// valid during Decode only.
type fields struct {
	time    *fastjson.Value
	timeKey string
	op      []byte
	opKey   string

	resourceID []byte // resourceId, ResourceId, _ResourceId
	resource   []byte // AzureDiagnostics Resource: the vault name
	provider   []byte // AzureDiagnostics ResourceProvider
	category   []byte
	table      []byte // Log Analytics Type

	signature   []byte
	description *fastjson.Value // read only when it may become the reason
	ip          []byte
	correlation []byte

	id         []byte
	requestURI *fastjson.Value // read only when the record has no id
	clientInfo []byte
	status     *fastjson.Value
	apMatch    *fastjson.Value
	rbac       *fastjson.Value

	props    *fastjson.Value
	identity *fastjson.Value
	claims   claims
}

func (f *fields) reset() {
	*f = fields{timeKey: "time", opKey: "operationName"}
}

// top reads one top-level key of any of the three shapes.
func (f *fields) top(k []byte, x *fastjson.Value) {
	switch string(k) {
	case "time":
		f.time, f.timeKey = x, "time"
	case "TimeGenerated":
		f.time, f.timeKey = x, "TimeGenerated"
	case "operationName":
		f.op, f.opKey = str(x), "operationName"
	case "OperationName":
		f.op, f.opKey = str(x), "OperationName"
	case "resourceId", "ResourceId", "_ResourceId":
		setStr(&f.resourceID, x)
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
		f.description = x
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
		setStr(&f.id, x)
	case "RequestUri", "requestUri_s":
		setVal(&f.requestURI, x)
	case "ClientInfo", "clientInfo_s":
		setStr(&f.clientInfo, x)
	case "HttpStatusCode", "httpStatusCode_d":
		setVal(&f.status, x)
	case "IsAccessPolicyMatch", "isAccessPolicyMatch_b":
		setVal(&f.apMatch, x)
	case "IsRbacAuthorized", "isRbacAuthorized_b":
		setVal(&f.rbac, x)
	default:
		if c, ok := bytes.CutPrefix(k, []byte("identity_claim_")); ok {
			f.claims.set(flatClaimName(c), x)
		}
	}
}

// prop reads one key of the native properties object.
func (f *fields) prop(k []byte, x *fastjson.Value) {
	switch string(k) {
	case "id":
		setStr(&f.id, x)
	case "requestUri":
		setVal(&f.requestURI, x)
	case "clientInfo":
		setStr(&f.clientInfo, x)
	case "httpStatusCode":
		setVal(&f.status, x)
	case "isAccessPolicyMatch":
		setVal(&f.apMatch, x)
	case "isRbacAuthorized":
		setVal(&f.rbac, x)
	}
}

// setStr keeps the first non-empty string among the keys naming one field.
func setStr(dst *[]byte, x *fastjson.Value) {
	if len(*dst) == 0 {
		*dst = str(x)
	}
}

// setVal keeps the first value that is not null or empty text (Log
// Analytics exports write every column, empty ones as "").
func setVal(dst **fastjson.Value, x *fastjson.Value) {
	if *dst != nil {
		return
	}
	switch x.Type() {
	case fastjson.TypeNull:
		return
	case fastjson.TypeString:
		if b, _ := x.StringBytes(); len(b) == 0 {
			return
		}
	}
	*dst = x
}

// skip returns a skip error for a well-formed record that is not a Key
// Vault audit event.
func (f *fields) skip() error {
	if len(f.category) > 0 && !bytes.EqualFold(f.category, []byte("AuditEvent")) {
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
