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
//
// The subscription's activity log is read too, for one thing only: a key
// vault's diagnostic setting written or deleted, the change that decides
// whether the vault's AuditEvent log is kept (see activity.go). Other
// activity records are skipped.
package azurekv

import (
	"bytes"
	"net/netip"

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
		if string(t) == "AZKVAuditLogs" || string(t) == "AzureActivity" {
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
	ev     event.Event
	in     record.Interner
	f      fields
	idp    fastjson.Parser // parses an Identity column written as JSON text
	key    []byte          // scratch for the object and caller memo keys
	ids    arena           // correlation ids
	shape  shape           // the raw reader's memory of the records
	minute minuteCache     // the minute of the last time read

	// For activity-log records: Properties written as JSON text, and the
	// request body within them.
	propp, bodyp fastjson.Parser

	rid memo[resource]
	op  memo[event.Operation]
	obj memo[event.Object]
	who memo[event.Caller]
	ua  memo[string]
	ip  memo[addr]
}

// resource is what a resource id gives: the vault, or a skip for another
// resource provider.
type resource struct {
	vault event.Vault
	skip  error
}

type addr struct {
	ip   netip.Addr
	host string
}

// NewDecoder returns a decoder for one stream.
func NewDecoder() *Decoder {
	return &Decoder{
		rid: newMemo[resource](1024),
		op:  newMemo[event.Operation](512),
		obj: newMemo[event.Object](1 << 15),
		who: newMemo[event.Caller](4096),
		ua:  newMemo[string](1024),
		ip:  newMemo[addr](4096),
	}
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
	o.Visit(f.top)
	if p := f.props.GetObject(); p != nil {
		p.Visit(f.prop)
	}
	if f.isActivity() {
		return d.activity(o, loc, emit)
	}
	d.claims(f.identity)
	return d.decode(loc, emit)
}

// decode normalizes the AuditEvent record read into d.f, by either reader,
// and emits its event.
func (d *Decoder) decode(loc event.Location, emit record.Emit) error {
	f := &d.f
	if err := f.skip(); err != nil {
		return err
	}
	rid := bytes.TrimRight(f.resourceID, "/")
	var res resource
	if len(rid) > 0 {
		var ok bool
		if res, ok = d.rid.get(rid); !ok {
			res = d.resource(rid)
			d.rid.put(rid, res)
		}
		if res.skip != nil {
			return res.skip
		}
	}
	if len(f.op) == 0 {
		if f.timeKey == "TimeGenerated" {
			return record.Missing("OperationName")
		}
		return record.Missing(f.opKey)
	}
	missing := "time"
	if f.opKey == "OperationName" {
		missing = "TimeGenerated"
	}
	t, err := f.timeOf(missing, &d.minute)
	if err != nil {
		return err
	}

	ev := &d.ev
	ev.Reset()
	ev.Time = t
	ev.Provider = event.ProviderAzureKeyVault
	ev.Format = event.FormatAzureKeyVault
	ev.Source = loc
	if len(rid) > 0 {
		ev.Vault = res.vault
	} else if !d.vaultFromURI(ev) {
		return record.Missing("resourceId")
	}
	var ok bool
	if ev.Operation, ok = d.op.get(f.op); !ok {
		name := d.in.Bytes(f.op)
		ev.Operation = event.Operation{Name: name, Class: classify(name)}
		d.op.put(f.op, ev.Operation)
	}
	d.object(ev)
	d.caller(ev)
	if ev.Caller.Type == event.IdentityAnonymous && bytes.HasSuffix(f.op, []byte(notificationSuffix)) {
		// Key Vault itself publishes Event Grid notifications.
		ev.Caller.Type = event.IdentityProviderService
		ev.Caller.InvokedBy = providerService
	}
	a, ok := d.ip.get(f.ip)
	if !ok {
		a.ip, a.host = record.ParseAddr(&d.in, f.ip)
		d.ip.put(f.ip, a)
	}
	ev.IP, ev.Host = a.ip, a.host
	if ev.UserAgent, ok = d.ua.get(f.clientInfo); !ok {
		ev.UserAgent = d.in.Bytes(f.clientInfo)
		d.ua.put(f.clientInfo, ev.UserAgent)
	}
	ev.CorrelationID = d.ids.string(f.correlation)
	d.result(ev)
	emit(ev)
	return nil
}

// resource reads a resource id (without trailing slash): the vault is the
// id lower-cased and its last segment, unless the id names another
// resource provider.
func (d *Decoder) resource(rid []byte) resource {
	if p := resourceProvider(rid); p != nil && !bytes.EqualFold(p, []byte(providerKeyVault)) {
		return resource{skip: record.Skip("resource provider " + reasonWord(bytes.ToLower(p)))}
	}
	id := d.in.Lower(rid)
	return resource{vault: event.Vault{ID: id, Name: id[lastSlash(id)+1:]}}
}

// vaultFromURI sets ev.Vault, for a record without resource id, from the
// vault host of the object or request URI, a management URI, or the
// Resource column. It reports false when the record names no vault.
func (d *Decoder) vaultFromURI(ev *event.Event) bool {
	f := &d.f
	name := vaultHost(f.id)
	if name == nil {
		name = vaultHost(f.requestURI.str())
	}
	if name == nil {
		name = armVaultName(f.requestURI.str())
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
	e := f.propsEntry
	if e != nil && e.objectOK {
		ev.Object = e.object
		return
	}
	u, fromID := f.id, true
	if len(u) == 0 {
		u, fromID = f.requestURI.str(), false
	}
	d.key = append(d.key[:0], boolByte(fromID))
	d.key = append(d.key, u...)
	obj, ok := d.obj.get(d.key)
	if !ok {
		if kind, name, version, ok := parseObjectURI(u, fromID); ok {
			obj = event.Object{Kind: kind, Name: d.in.Lower(name), Version: d.in.Bytes(version)}
		}
		d.obj.put(d.key, obj)
	}
	ev.Object = obj
	if e != nil {
		e.object, e.objectOK = obj, true
	}
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
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
