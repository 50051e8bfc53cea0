// Package gcpaudit decodes Google Cloud audit log entries (Cloud Logging
// LogEntry objects whose protoPayload is a google.cloud.audit.AuditLog) of
// Secret Manager into events. Entries of other services are skipped with
// the reason "service <serviceName>".
//
// Normalization:
//   - Vault: the project, from resource.labels.project_id, else the
//     resourceName or the logName ("projects/P/..."): ID "gcp:P", Name "P".
//   - Operation: the full methodName, classified on its last element.
//   - Object: the secret and version named by resourceName
//     ("projects/P/[locations/L/]secrets/NAME/versions/V").
//   - Caller: authenticationInfo.principalEmail; a service account is a
//     service principal, a Google-managed service agent
//     ("service-*@gcp-sa-*") the provider's service, another email a user;
//     no principal is anonymous. The first principal of
//     serviceAccountDelegationInfo is kept as InvokedBy.
//   - Result: from the gRPC status.code, with Status its HTTP equivalent
//     (200 for success) and Reason its name; an authorizationInfo entry
//     with granted=false is a denial.
//   - Time: timestamp, else requestMetadata.requestAttributes.time, else
//     receiveTimestamp; zero when the entry has none (trimmed entries).
//
// The decoder never reads the request or response of an entry.
package gcpaudit

import (
	"bytes"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// Format is the GCP audit log format for the reader's registry.
var Format = record.Format{
	Name:   event.FormatGCPAudit,
	Detect: Detect,
	New:    func() record.Decoder { return NewDecoder() },
}

const serviceSecretManager = "secretmanager.googleapis.com"

// Detect reports whether v looks like an audit log entry: a protoPayload
// object with a methodName or a serviceName.
func Detect(v *fastjson.Value) bool {
	p := v.Get("protoPayload")
	if p == nil || p.Type() != fastjson.TypeObject {
		return false
	}
	return p.Get("methodName") != nil || p.Get("serviceName") != nil
}

// Decoder decodes the audit log entries of one stream. It reuses one event
// and interns repeated strings, so an entry costs no allocation beyond its
// correlation id.
type Decoder struct {
	ev  event.Event
	in  record.Interner
	buf []byte
}

// NewDecoder returns a decoder for one stream.
func NewDecoder() *Decoder {
	return &Decoder{buf: make([]byte, 0, 64)}
}

var _ record.Decoder = (*Decoder)(nil)

// Flush does nothing: every entry is complete on its own.
func (d *Decoder) Flush(record.Emit) {}

// Decode normalizes one audit log entry; see the package documentation.
func (d *Decoder) Decode(v *fastjson.Value, loc event.Location, emit record.Emit) error {
	p := v.Get("protoPayload")
	if p == nil {
		return record.Missing("protoPayload")
	}
	if p.Type() != fastjson.TypeObject {
		return record.Invalid("protoPayload", "an object")
	}
	svc, err := str(p, "serviceName", "protoPayload.serviceName")
	if err != nil {
		return err
	}
	method, err := str(p, "methodName", "protoPayload.methodName")
	if err != nil {
		return err
	}
	switch {
	case string(svc) == serviceSecretManager:
	case len(svc) > 0:
		return record.Skip(d.join("service ", svc))
	case !bytes.HasPrefix(method, []byte("google.cloud.secretmanager.")):
		return record.Skip("service unknown")
	}
	if len(method) == 0 {
		return record.Missing("protoPayload.methodName")
	}

	e := &d.ev
	e.Reset()
	e.Provider = event.ProviderGCPSecretManager
	e.Format = event.FormatGCPAudit
	e.Source = loc

	if err := d.time(v, p); err != nil {
		return err
	}

	resourceName, err := str(p, "resourceName", "protoPayload.resourceName")
	if err != nil {
		return err
	}
	project := record.Str(v, "resource", "labels", "project_id")
	if len(project) == 0 {
		project = projectOf(resourceName)
	}
	if len(project) == 0 {
		project = projectOf(record.Str(v, "logName"))
	}
	if len(project) == 0 {
		return record.Missing("resource.labels.project_id")
	}
	e.Vault.Name = d.in.Bytes(project)
	e.Vault.ID = d.join("gcp:", project)

	e.Operation.Name = d.in.Bytes(method)
	e.Operation.Class = class(method)

	name, version := secretOf(resourceName)
	e.Object.Kind = event.KindSecret
	e.Object.Name = d.in.Bytes(name)
	e.Object.Version = d.in.Bytes(version)

	d.caller(p)

	e.IP, e.Host = record.ParseAddr(&d.in, record.Str(p, "requestMetadata", "callerIp"))
	e.UserAgent = d.in.Bytes(record.Str(p, "requestMetadata", "callerSuppliedUserAgent"))
	if id := record.Str(v, "insertId"); len(id) > 0 {
		e.CorrelationID = string(id)
	} else {
		e.CorrelationID = string(record.Str(v, "operation", "id"))
	}

	e.Result = result(p)
	emit(e)
	return nil
}

// time sets the event time from the first timestamp the entry has.
func (d *Decoder) time(v, p *fastjson.Value) error {
	for _, f := range [...]struct {
		v     *fastjson.Value
		field string
	}{
		{v.Get("timestamp"), "timestamp"},
		{p.Get("requestMetadata", "requestAttributes", "time"), "protoPayload.requestMetadata.requestAttributes.time"},
		{v.Get("receiveTimestamp"), "receiveTimestamp"},
	} {
		if f.v == nil {
			continue
		}
		b, err := f.v.StringBytes()
		if err != nil {
			return record.Invalid(f.field, "a string")
		}
		t, ok := record.ParseTime(b)
		if !ok || t.IsZero() { // zero means no time
			return record.Invalid(f.field, "an RFC 3339 time")
		}
		d.ev.Time = t
		return nil
	}
	return nil
}

// str returns the string at key, nil when absent; another type is invalid.
func str(v *fastjson.Value, key, field string) ([]byte, error) {
	x := v.Get(key)
	if x == nil || x.Type() == fastjson.TypeNull {
		return nil, nil
	}
	b, err := x.StringBytes()
	if err != nil {
		return nil, record.Invalid(field, "a string")
	}
	return b, nil
}

// join interns a+b, built in the decoder's scratch buffer.
func (d *Decoder) join(a string, b []byte) string {
	d.buf = append(append(d.buf[:0], a...), b...)
	return d.in.Bytes(d.buf)
}

// projectOf returns P from "projects/P/...", nil otherwise.
func projectOf(b []byte) []byte {
	rest, ok := bytes.CutPrefix(b, []byte("projects/"))
	if !ok {
		return nil
	}
	if i := bytes.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// secretOf returns the secret and version named by a resource name
// "projects/P/[locations/L/]secrets/NAME[/versions/V]".
func secretOf(b []byte) (name, version []byte) {
	for len(b) > 0 {
		var key, val []byte
		key, b, _ = bytes.Cut(b, []byte("/"))
		val, b, _ = bytes.Cut(b, []byte("/"))
		switch string(key) {
		case "secrets":
			name = val
		case "versions":
			version = val
		}
	}
	if len(name) == 0 {
		return nil, nil
	}
	return name, version
}

// classes maps the last element of a Secret Manager methodName to a class.
var classes = map[string]event.Class{
	"AccessSecretVersion": event.ClassRead,

	"GetSecret":          event.ClassManagement,
	"GetSecretVersion":   event.ClassManagement,
	"GetIamPolicy":       event.ClassManagement,
	"TestIamPermissions": event.ClassManagement,

	"ListSecrets":        event.ClassList,
	"ListSecretVersions": event.ClassList,

	"CreateSecret":     event.ClassWrite,
	"AddSecretVersion": event.ClassWrite,
	"UpdateSecret":     event.ClassWrite,

	"DeleteSecret":         event.ClassDelete,
	"DestroySecretVersion": event.ClassPurge,
	"DisableSecretVersion": event.ClassManagement,
	"EnableSecretVersion":  event.ClassRecover,
	"SetIamPolicy":         event.ClassPolicyChange,
}

// class classifies a methodName such as
// "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion".
func class(method []byte) event.Class {
	if i := bytes.LastIndexByte(method, '.'); i >= 0 {
		method = method[i+1:]
	}
	if c, ok := classes[string(method)]; ok {
		return c
	}
	return event.ClassOther
}
