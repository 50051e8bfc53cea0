// Package azurekv decodes Azure Key Vault AuditEvent records into
// event.Event.
//
// Three shapes of the same log are accepted, one JSON object per record:
//
//   - the native resource log (storage account blobs PT1H.json, Event Hubs
//     records): "time", "resourceId", "operationName", "identity.claim",
//     "properties.id", ...;
//   - a Log Analytics export of the AzureDiagnostics table, with flattened
//     columns: "TimeGenerated", "ResourceId", "identity_claim_oid_g",
//     "httpStatusCode_d", ...;
//   - a Log Analytics export of the resource-specific AZKVAuditLogs table:
//     "TimeGenerated", "_ResourceId", "Identity" (an object or its JSON
//     text), "HttpStatusCode", ...
//
// The outcome of a call is read from the HTTP status and the result
// signature, never from resultType, which Key Vault writes as "Success" on
// denied and failed calls alike. Records of other categories (Azure Policy
// evaluations) and of other resource providers are skipped.
package azurekv

import (
	"bytes"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// Format is the Azure Key Vault AuditEvent format.
var Format = record.Format{
	Name:   event.FormatAzureKeyVault,
	Detect: Detect,
	New:    func() record.Decoder { return NewDecoder() },
}

// Detect reports whether v is a Key Vault AuditEvent record in one of the
// accepted shapes, or another Azure resource log record that Decode will
// skip.
func Detect(v *fastjson.Value) bool {
	o := v.GetObject()
	if o == nil {
		return false
	}
	if o.Get("operationName") != nil {
		// Native resource log. CloudTrail (eventSource), GCP (protoPayload)
		// and Vault (type) records never carry operationName, but a record
		// that holds both is not ours.
		if o.Get("eventSource") != nil || o.Get("protoPayload") != nil || o.Get("type") != nil {
			return false
		}
		return o.Get("resourceId") != nil || bytes.EqualFold(str(o.Get("category")), []byte("AuditEvent"))
	}
	if t := str(o.Get("Type")); len(t) > 0 {
		if string(t) == "AZKVAuditLogs" {
			return true
		}
	}
	if bytes.EqualFold(str(o.Get("ResourceProvider")), []byte(providerKeyVault)) {
		return true
	}
	if o.Get("OperationName") != nil && bytes.EqualFold(str(o.Get("Category")), []byte("AuditEvent")) {
		return true
	}
	return indexFold(str(o.Get("_ResourceId")), "microsoft.keyvault") >= 0
}

// Decoder decodes the records of one stream. It is not safe for concurrent
// use.
type Decoder struct {
	ev  event.Event
	in  record.Interner
	f   fields
	idp fastjson.Parser // parses an Identity column written as JSON text
}

// NewDecoder returns a decoder for one stream.
func NewDecoder() *Decoder {
	return &Decoder{}
}

var _ record.Decoder = (*Decoder)(nil)

// Flush does nothing: every record is complete on its own.
func (d *Decoder) Flush(record.Emit) {}

// Decode normalizes one record and emits its event.
func (d *Decoder) Decode(v *fastjson.Value, loc event.Location, emit record.Emit) error {
	o := v.GetObject()
	if o == nil {
		return record.Invalid("record", "an object")
	}
	f := &d.f
	f.reset()
	o.Visit(func(k []byte, x *fastjson.Value) { f.top(k, x) })
	if p := f.props.GetObject(); p != nil {
		p.Visit(func(k []byte, x *fastjson.Value) { f.prop(k, x) })
	}
	if err := f.skip(); err != nil {
		return err
	}
	if len(f.op) == 0 {
		return record.Missing(f.opKey)
	}
	if f.time == nil {
		return record.Missing("time")
	}
	tb := str(f.time)
	if tb == nil {
		return record.Invalid(f.timeKey, "a string")
	}
	t, ok := record.ParseTime(tb)
	if !ok || t.IsZero() {
		return record.Invalid(f.timeKey, "an RFC 3339 time")
	}
	d.claims(f.identity)

	ev := &d.ev
	ev.Reset()
	ev.Time = t
	ev.Provider = event.ProviderAzureKeyVault
	ev.Format = event.FormatAzureKeyVault
	ev.Source = loc
	if !d.vault(ev) {
		return record.Missing("resourceId")
	}
	ev.Operation.Name = d.in.Bytes(f.op)
	ev.Operation.Class = classify(ev.Operation.Name)
	d.object(ev)
	d.caller(ev)
	if ev.Caller.Type == event.IdentityAnonymous && bytes.HasSuffix(f.op, []byte(notificationSuffix)) {
		// Key Vault itself publishes Event Grid notifications.
		ev.Caller.Type = event.IdentityProviderService
		ev.Caller.InvokedBy = providerService
	}
	ev.IP, ev.Host = record.ParseAddr(&d.in, f.ip)
	ev.UserAgent = d.in.Bytes(f.clientInfo)
	if len(f.correlation) > 0 {
		ev.CorrelationID = string(f.correlation)
	}
	d.result(ev)
	emit(ev)
	return nil
}

// vault sets ev.Vault from the resource id, or else from the vault host of
// the object or request URI. It reports false when the record names no
// vault.
func (d *Decoder) vault(ev *event.Event) bool {
	f := &d.f
	if rid := bytes.TrimRight(f.resourceID, "/"); len(rid) > 0 {
		id := d.in.Lower(rid)
		ev.Vault.ID = id
		ev.Vault.Name = id[lastSlash(id)+1:]
		return true
	}
	name := vaultHost(f.id)
	if name == nil {
		name = vaultHost(f.requestURI)
	}
	if name == nil {
		name = armVaultName(f.requestURI)
	}
	if name == nil {
		name = f.resource
	}
	if len(name) == 0 || len(name) > 128 {
		return false
	}
	var buf [len(vaultIDPrefix) + 128]byte
	b := append(buf[:0], vaultIDPrefix...)
	b = append(b, name...)
	id := d.in.Lower(b)
	ev.Vault.ID = id
	ev.Vault.Name = id[len(vaultIDPrefix):]
	return true
}

// Key Vault's own records: Event Grid notifications it publishes.
const (
	notificationSuffix = "EventGridNotification"
	providerService    = "Microsoft.KeyVault"
)

// vaultIDPrefix starts the id of a vault known only by its name.
const vaultIDPrefix = "azure-keyvault:"

// object sets ev.Object from properties.id, or from the request URI when
// the record has no id.
func (d *Decoder) object(ev *event.Event) {
	f := &d.f
	kind, name, version, ok := parseObjectURI(f.id, true)
	if !ok && len(f.id) == 0 {
		kind, name, version, ok = parseObjectURI(f.requestURI, false)
	}
	if !ok {
		return
	}
	ev.Object.Kind = kind
	ev.Object.Name = d.in.Lower(name)
	ev.Object.Version = d.in.Bytes(version)
}

func str(x *fastjson.Value) []byte {
	if x == nil || x.Type() != fastjson.TypeString {
		return nil
	}
	b, _ := x.StringBytes()
	return b
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}
