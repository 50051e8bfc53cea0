package azurekv

import (
	"bytes"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// Activity-log records. The subscription's activity log (category
// Administrative) records the control-plane calls of Azure Resource
// Manager; a Key Vault's diagnostic settings, which decide whether its
// AuditEvent log is kept at all, are changed there and nowhere else. Two
// shapes are read, as the Azure Monitor documentation describes them
// ("Azure Activity Log event schema", the storage account and Event Hubs
// section; the AzureActivity table reference):
//
//   - exported by a diagnostic setting to storage or Event Hubs: "time",
//     "resourceId", "operationName", "category" ("Administrative"; the
//     schema mapping also names the operation type, "Write", "Delete",
//     "Action", there), "resultType" ("Start", "Accept", "Success",
//     "Failure"), "resultSignature" ("Succeeded.OK", "Failed.Forbidden"),
//     "callerIpAddress", "correlationId", "identity" {"authorization",
//     "claims"}, "properties" {"statusCode", "requestbody", ...};
//   - the Log Analytics AzureActivity table: "TimeGenerated",
//     "OperationNameValue", "ResourceId"/"_ResourceId", "CategoryValue",
//     "ActivityStatusValue", "ActivitySubstatusValue", "Caller",
//     "CallerIpAddress", "CorrelationId", "Claims" (JSON text) or
//     "Claims_d", "Properties" (JSON text) or "Properties_d".
//
// A write or delete of a diagnostic setting under a key vault
// (".../PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/<vault>/PROVIDERS/
// MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/<setting>") becomes an event of
// class audit-config on that vault, named as its AuditEvent records name
// it, with the setting as a path object. The record that only says the call
// started (resultType Start or Accept) is skipped with the reason "activity
// started": the one that says how it ended follows. Every other activity
// record is skipped with the reason of its category, as before.

// Diagnostic-setting operations, upper-case as the activity log writes
// them.
const (
	opDiagWrite  = "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/WRITE"
	opDiagDelete = "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE"
)

// isActivity reports whether the record read into f is an activity-log
// record.
func (f *fields) isActivity() bool {
	if string(f.table) == "AzureActivity" {
		return true
	}
	for _, c := range [...]string{"Administrative", "Write", "Delete", "Action"} {
		if bytes.EqualFold(f.category, []byte(c)) {
			return true
		}
	}
	return false
}

// activity decodes an activity-log record; see above.
func (d *Decoder) activity(o *fastjson.Object, loc event.Location, emit record.Emit) error {
	f := &d.f
	skip := func() error {
		if len(f.category) == 0 {
			return record.Skip("table AzureActivity")
		}
		return record.Skip("category " + reasonWord(f.category))
	}
	op := f.op
	if v := str(o.Get("OperationNameValue")); len(v) > 0 {
		op = v
	}
	var opName string
	switch {
	case bytes.EqualFold(op, []byte(opDiagWrite)):
		opName = opDiagWrite
	case bytes.EqualFold(op, []byte(opDiagDelete)):
		opName = opDiagDelete
	default:
		return skip()
	}
	vaultID, setting, ok := diagTarget(bytes.TrimRight(f.resourceID, "/"))
	if !ok {
		return skip()
	}
	status := str(o.Get("resultType"))
	if len(status) == 0 {
		status = first(str(o.Get("ActivityStatusValue")), str(o.Get("ActivityStatus")))
	}
	if foldAny(status, "Start", "Started", "Accept", "Accepted") {
		return record.Skip("activity started")
	}
	t, err := f.timeOf(f.timeKey, &d.minute)
	if err != nil {
		return err
	}

	ev := &d.ev
	ev.Reset()
	ev.Time = t
	ev.Provider = event.ProviderAzureKeyVault
	ev.Format = event.FormatAzureKeyVault
	ev.Source = loc
	id := d.in.Lower(vaultID)
	ev.Vault = event.Vault{ID: id, Name: id[lastSlash(id)+1:]}
	ev.Operation = event.Operation{Name: opName, Class: event.ClassAuditConfig}
	if len(setting) > 0 {
		ev.Object = event.Object{Kind: event.KindPath, Name: d.in.Lower(setting)}
	}

	var claims *fastjson.Value
	if id := f.identity; id != nil && id.Type() == fastjson.TypeObject {
		claims = id.Get("claims")
	}
	d.claims(firstSet(claims, o.Get("Claims_d"), o.Get("Claims")))
	d.caller(ev)
	if ev.Caller.Type == event.IdentityAnonymous {
		// AzureActivity's Caller: the UPN, else the principal's object id.
		if c := str(o.Get("Caller")); len(c) > 0 {
			if bytes.IndexByte(c, '@') >= 0 {
				ev.Caller = event.Caller{Type: event.IdentityUser, UPN: d.in.Bytes(c), DisplayName: d.in.Bytes(c)}
			} else {
				ev.Caller = event.Caller{Type: event.IdentityServicePrincipal, ObjectID: d.in.Bytes(c)}
			}
		}
	}
	ev.IP, ev.Host = record.ParseAddr(&d.in, f.ip)
	ev.CorrelationID = d.ids.string(f.correlation)

	props := d.jsonObject(firstSet(f.props, o.Get("Properties_d")))
	sub := str(o.Get("ActivitySubstatusValue"))
	if len(sub) == 0 {
		sub = str(props.Get("statusCode"))
	}
	if len(sub) == 0 {
		// "Succeeded.OK", "Failed.Forbidden": the HTTP status text last.
		sig := f.signature
		if i := bytes.LastIndexByte(sig, '.'); i >= 0 {
			sub = sig[i+1:]
		}
	}
	activityResult(&ev.Result, status, sub, &d.in)
	if ev.Result.Outcome == event.OutcomeSuccess {
		ev.Operation.Detail = diagDetail(opName, d.requestBody(props))
	}
	emit(ev)
	return nil
}

// diagTarget splits the resource id of a key vault's diagnostic setting
// into the vault's resource id and the setting's name. ok is false for any
// other resource.
func diagTarget(rid []byte) (vault, setting []byte, ok bool) {
	const kv = "/providers/microsoft.keyvault/vaults/"
	const diag = "/providers/microsoft.insights/diagnosticsettings"
	i := indexFold(rid, kv)
	if i < 0 {
		return nil, nil, false
	}
	rest := rid[i+len(kv):]
	j := bytes.IndexByte(rest, '/')
	if j <= 0 {
		return nil, nil, false
	}
	vault = rid[:i+len(kv)+j]
	rest = rest[j:]
	if len(rest) < len(diag) || indexFold(rest[:len(diag)], diag) != 0 {
		return nil, nil, false
	}
	setting = bytes.TrimPrefix(rest[len(diag):], []byte("/"))
	if bytes.IndexByte(setting, '/') >= 0 {
		return nil, nil, false
	}
	return vault, setting, true
}

// jsonObject returns v when it is an object, the object its JSON text
// holds when it is a string (Log Analytics writes dynamic columns so), or
// nil. The parse reuses the decoder's identity parser.
func (d *Decoder) jsonObject(v *fastjson.Value) *fastjson.Value {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeObject:
		return v
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		x, err := d.propp.ParseBytes(b)
		if err != nil || x.Type() != fastjson.TypeObject {
			return nil
		}
		return x
	}
	return nil
}

// requestBody returns the parsed request body of an activity record
// (properties.requestbody, JSON text), or nil.
func (d *Decoder) requestBody(props *fastjson.Value) *fastjson.Value {
	b := str(props.Get("requestbody"))
	if len(b) == 0 {
		b = str(props.Get("requestBody"))
	}
	if len(b) == 0 {
		return nil
	}
	x, err := d.bodyp.ParseBytes(b)
	if err != nil || x.Type() != fastjson.TypeObject {
		return nil
	}
	return x
}

// diagDetail says what a successful diagnostic-setting change did. For a
// write whose request body the record keeps, it tells whether the setting
// still exports the AuditEvent category (named, or in the "audit" or
// "allLogs" group).
func diagDetail(op string, body *fastjson.Value) string {
	if op == opDiagDelete {
		return "deleted the diagnostic setting"
	}
	const did = "wrote the diagnostic setting"
	if body.Get("properties") == nil {
		return did
	}
	for _, l := range body.GetArray("properties", "logs") {
		on, ok := record.Bool(l, "enabled")
		if !ok || !on {
			continue
		}
		if bytes.EqualFold(str(l.Get("category")), []byte("AuditEvent")) ||
			foldAny(str(l.Get("categoryGroup")), "audit", "allLogs") {
			return did + ": AuditEvent logs still exported by it"
		}
	}
	return did + ": AuditEvent logs no longer exported by it"
}

// activityResult sets r from an activity record's status (Success,
// Failure, Succeeded, Failed) and sub-status (the HTTP status text, e.g.
// OK, Forbidden).
func activityResult(r *event.Result, status, sub []byte, in *record.Interner) {
	code := httpCode(sub)
	switch {
	case foldAny(status, "Success", "Succeeded"):
		r.Outcome = event.OutcomeSuccess
	case foldAny(status, "Failure", "Failed"):
		r.Outcome = event.OutcomeError
		if code >= 400 {
			r.Outcome = statusOutcome(code)
		}
	case code >= 200:
		r.Outcome = statusOutcome(code)
	default:
		r.Outcome = event.OutcomeUnknown
	}
	r.Status = code
	if r.Outcome != event.OutcomeSuccess {
		switch {
		case len(sub) > 0 && len(sub) <= 64:
			r.Reason = in.Bytes(sub)
		case len(status) > 0 && len(status) <= 64:
			r.Reason = in.Bytes(status)
		}
	}
}

// httpCode maps the HTTP status text the activity log writes (with or
// without spaces) to its code, or 0.
func httpCode(s []byte) int {
	for _, c := range [...]struct {
		text string
		code int
	}{
		{"OK", 200}, {"Created", 201}, {"Accepted", 202}, {"NoContent", 204},
		{"BadRequest", 400}, {"Unauthorized", 401}, {"Forbidden", 403}, {"NotFound", 404},
		{"Conflict", 409}, {"TooManyRequests", 429}, {"InternalServerError", 500},
	} {
		if eqFoldNoSpace(s, c.text) {
			return c.code
		}
	}
	return 0
}

// foldAny reports whether b equals one of words, ignoring ASCII case.
func foldAny(b []byte, words ...string) bool {
	for _, w := range words {
		if bytes.EqualFold(b, []byte(w)) {
			return true
		}
	}
	return false
}

// firstSet returns the first value that is not absent, null or empty text
// (Log Analytics exports write every column, empty ones as "" or null).
func firstSet(vals ...*fastjson.Value) *fastjson.Value {
	for _, x := range vals {
		if x == nil {
			continue
		}
		switch x.Type() {
		case fastjson.TypeNull:
			continue
		case fastjson.TypeString:
			if b, _ := x.StringBytes(); len(b) == 0 {
				continue
			}
		}
		return x
	}
	return nil
}
