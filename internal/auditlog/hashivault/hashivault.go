// Package hashivault decodes the audit-device logs of HashiCorp Vault and
// OpenBao (OpenBao forked Vault 1.14 and writes the same entries) into
// events.
//
// An audit device writes two entries per request: a "request" entry when the
// request arrives and a "response" entry when it completes, both carrying
// the request and the token that made it, paired by request.id. The decoder
// emits one event per request, when its response arrives: it holds request
// entries (their normalized fields only, never the parsed record) in a
// bounded table until then. A request whose response never comes is emitted
// by Flush, or when the table is full (oldest first), with the outcome
// unknown unless the request entry itself carries an error.
//
// Normalization:
//   - Vault: the mount in its namespace. ID "vault:<namespace id>:<mount
//     point>" (e.g. "vault:root:kv-payments/"), Name the namespace path
//     (when not root) and the mount point without its trailing slash (e.g.
//     "team-a/kv-payments", "sys", "auth/userpass"). Without
//     request.mount_point (older servers, some denied requests) the mount
//     is the first segment of the path, "auth/<method>/" for auth paths.
//     The logs name no cluster or server, so a vault is only unique within
//     the cluster whose log is read.
//   - Operation: Name is request.operation; the class comes from the
//     operation, the kind of mount and the path within it (see classify).
//   - Object: a KV or cubbyhole secret (KindSecret, the KV v2 data/,
//     metadata/, delete/, destroy/, undelete/ or subkeys/ prefix removed), a
//     transit key (KindKey), or otherwise the path (KindPath: the full path
//     under sys/, the path within the mount elsewhere). Version is the KV v2
//     version number from the response metadata.
//   - Caller: the token in the entry's auth block (see Decoder.caller).
//     IP: request.remote_address (a host name goes to Host). UserAgent: the
//     first request.headers["user-agent"], present when the device is set to
//     log that header. CorrelationID: request.id.
//   - Result: from the entry's error (see Decoder.result).
//   - Time: the request entry's time when it was seen (when the access
//     happened), else the response entry's, in UTC.
//
// Vault writes a test entry through each audit device it enables: it is
// skipped with the reason "audit device test entry".
//
// Vault's jsonx format is read by converting each entry to JSON first: see
// SplitJSONX and JSONX.
//
// The decoder never reads request or response data (except the KV v2
// version number and whether a read returned anything), tokens, wrapping
// tokens or headers other than user-agent: with log_raw they are in clear.
package hashivault

import (
	"strconv"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// Format is the Vault/OpenBao audit format for the reader's registry.
var Format = record.Format{
	Name:   event.FormatVaultAudit,
	Detect: Detect,
	New:    func() record.Decoder { return NewDecoder() },
}

// MaxHeld bounds the request entries a decoder holds while waiting for their
// responses. When it is reached the oldest is emitted unpaired.
const MaxHeld = 10000

// redacted is how some published logs mask HMAC-ed values.
const redacted = "****"

// Detect reports whether v looks like a Vault/OpenBao audit entry: type is
// "request" or "response" and a request or auth object is present.
func Detect(v *fastjson.Value) bool {
	t := v.Get("type")
	if t == nil || t.Type() != fastjson.TypeString {
		return false
	}
	s, _ := t.StringBytes()
	if string(s) != "request" && string(s) != "response" {
		return false
	}
	if r := v.Get("request"); r != nil && r.Type() == fastjson.TypeObject {
		return true
	}
	a := v.Get("auth")
	return a != nil && a.Type() == fastjson.TypeObject
}

// held is a request entry waiting for its response, in a list from oldest
// to newest.
type held struct {
	id         string
	ev         event.Event
	prev, next *held
}

// Decoder decodes the audit entries of one stream. It reuses one event,
// interns repeated strings and shares one immutable slice per distinct set
// of policies, so a response entry costs no allocation beyond its
// correlation id once the stream's vaults, callers and paths have been seen.
type Decoder struct {
	ev  event.Event
	in  record.Interner
	pol policySets
	buf []byte

	max        int // held entries at most
	pending    map[string]*held
	head, tail *held // oldest, newest
	free       *held // released entries, linked by next
}

// NewDecoder returns a decoder for one stream.
func NewDecoder() *Decoder {
	return &Decoder{
		buf:     make([]byte, 0, 256),
		max:     MaxHeld,
		pending: make(map[string]*held, 64),
	}
}

var _ record.Decoder = (*Decoder)(nil)

// entry is what Decode reads from the record before normalizing it.
type entry struct {
	response bool
	req      *fastjson.Value
	auth     *fastjson.Value // nil when absent
	resp     *fastjson.Value // nil when absent
	path     []byte
	op       []byte
	err      []byte
}

// Decode normalizes one audit entry. A request entry is held (nothing is
// emitted) until its response; a response entry, or an entry without a
// request id, emits its event.
func (d *Decoder) Decode(v *fastjson.Value, loc event.Location, emit record.Emit) error {
	var e entry
	switch string(record.Str(v, "type")) {
	case "request":
	case "response":
		e.response = true
	default:
		return record.Invalid("type", `"request" or "response"`)
	}
	e.req = object(v, "request")
	if e.req == nil {
		return record.Missing("request")
	}
	tb := record.Str(v, "time")
	if len(tb) == 0 {
		return record.Missing("time")
	}
	t, ok := record.ParseTime(tb)
	if !ok {
		return record.Invalid("time", "an RFC 3339 time")
	}
	e.auth = object(v, "auth")
	e.resp = object(v, "response")
	e.path = record.Str(e.req, "path")
	e.op = record.Str(e.req, "operation")
	e.err = record.Str(v, "error")

	// Enabling an audit device makes Vault write a test entry through it
	// (path sys/audit/test, no token, no client address). It records no
	// access, and its response is never written: skip it rather than emit
	// it as an unpaired request of unknown outcome.
	if !e.response && string(e.path) == "sys/audit/test" && !resolved(e.auth) &&
		e.req.Get("remote_address") == nil {
		return record.Skip("audit device test entry")
	}
	if len(e.op) == 0 {
		return record.Missing("request.operation")
	}

	ev := &d.ev
	ev.Reset()
	ev.Caller.Policies = nil // the previous slice is a shared policy set: never append to it
	ev.Provider = event.ProviderHashiCorpVault
	ev.Format = event.FormatVaultAudit
	ev.Source = loc
	ev.Time = t
	d.normalize(ev, &e)

	id := record.Str(e.req, "id")
	if len(id) == 0 {
		emit(ev)
		return nil
	}
	if !e.response {
		d.hold(id, ev, emit)
		return nil
	}
	if h := d.pending[string(id)]; h != nil {
		ev.Time = h.ev.Time
		ev.CorrelationID = h.ev.CorrelationID
		d.drop(h)
	} else {
		ev.CorrelationID = correlationID(string(id))
	}
	emit(ev)
	return nil
}

// Flush emits the held requests whose responses never came, oldest first.
func (d *Decoder) Flush(emit record.Emit) {
	for d.head != nil {
		h := d.head
		d.drop(h) // h's event stays intact until h is reused
		emit(&h.ev)
	}
}

// hold keeps the request entry normalized in ev until its response.
func (d *Decoder) hold(id []byte, ev *event.Event, emit record.Emit) {
	if old := d.pending[string(id)]; old != nil {
		// The same id again before a response: keep both accesses.
		d.drop(old)
		emit(&old.ev)
	}
	if len(d.pending) >= d.max && d.head != nil {
		oldest := d.head
		d.drop(oldest)
		emit(&oldest.ev)
	}
	h := d.free
	if h != nil {
		d.free = h.next
	} else {
		h = new(held)
	}
	h.id = string(id)
	h.ev = *ev
	h.ev.CorrelationID = correlationID(h.id)
	h.prev, h.next = d.tail, nil
	if d.tail != nil {
		d.tail.next = h
	} else {
		d.head = h
	}
	d.tail = h
	d.pending[h.id] = h
}

// drop removes h from the table and puts it on the free list; its event
// stays readable until the next hold.
func (d *Decoder) drop(h *held) {
	delete(d.pending, h.id)
	if h.prev != nil {
		h.prev.next = h.next
	} else {
		d.head = h.next
	}
	if h.next != nil {
		h.next.prev = h.prev
	} else {
		d.tail = h.prev
	}
	h.prev = nil
	h.next = d.free
	d.free = h
}

// Held returns how many request entries wait for their responses.
func (d *Decoder) Held() int { return len(d.pending) }

// correlationID is the request id, or empty when a published log masked it.
func correlationID(id string) string {
	if id == redacted {
		return ""
	}
	return id
}

// normalize fills ev from the entry.
func (d *Decoder) normalize(ev *event.Event, e *entry) {
	req := e.req
	ns := object(req, "namespace")
	var nsID, nsPath []byte
	if ns != nil {
		nsID = record.Str(ns, "id")
		nsPath = record.Str(ns, "path")
	}
	mountType := record.Str(req, "mount_type")
	mount := record.Str(req, "mount_point")
	if len(mount) == 0 {
		mount = deriveMount(e.path)
	}
	d.vault(ev, nsID, nsPath, mount)

	rel := e.path
	if len(rel) >= len(mount) && string(rel[:len(mount)]) == string(mount) {
		rel = rel[len(mount):]
	}
	ev.Operation.Name = d.in.Bytes(e.op)
	c := classify(string(e.op), kindOf(mount, mountType, record.Str(req, "mount_class"), rel), e.path, rel)
	ev.Operation.Class = c.class
	if len(c.name) > 0 {
		ev.Object.Kind = c.kind
		ev.Object.Name = d.in.Bytes(c.name)
	}
	if c.version != versionNone && e.resp != nil {
		d.version(ev, e.resp, c.version)
	}

	d.caller(ev, e, mount, mountType, c)

	ev.IP, ev.Host = record.ParseAddr(&d.in, record.Str(req, "remote_address"))
	if ua := req.Get("headers", "user-agent", "0"); ua != nil && ua.Type() == fastjson.TypeString {
		b, _ := ua.StringBytes()
		ev.UserAgent = d.in.Bytes(b)
	}
	d.result(ev, e, c)
}

// vault sets the vault id and name of the mount in its namespace.
func (d *Decoder) vault(ev *event.Event, nsID, nsPath, mount []byte) {
	if len(nsID) == 0 {
		nsID = []byte("root")
	}
	b := append(d.buf[:0], "vault:"...)
	b = append(b, nsID...)
	b = append(b, ':')
	b = append(b, mount...)
	if len(mount) > 0 && mount[len(mount)-1] != '/' {
		b = append(b, '/')
	}
	ev.Vault.ID = d.in.Bytes(b)

	b = b[:0]
	if p := string(nsPath); p != "" && p != "root" && p != "root/" {
		b = append(b, nsPath...)
		if b[len(b)-1] != '/' {
			b = append(b, '/')
		}
	}
	m := mount
	if len(m) > 0 && m[len(m)-1] == '/' {
		m = m[:len(m)-1]
	}
	b = append(b, m...)
	if len(b) > 0 && b[len(b)-1] == '/' { // a namespace with no mount
		b = b[:len(b)-1]
	}
	ev.Vault.Name = d.in.Bytes(b)
	d.buf = b[:0]
}

// version sets the KV v2 version from the response: the number under
// data.metadata.version for a read, data.version for a write. Nothing else
// of the response data is read.
func (d *Decoder) version(ev *event.Event, resp *fastjson.Value, src versionSource) {
	var x *fastjson.Value
	switch src {
	case versionRead:
		x = resp.Get("data", "metadata", "version")
	case versionWrite:
		x = resp.Get("data", "version")
	}
	if x == nil || x.Type() != fastjson.TypeNumber {
		return
	}
	n, err := x.Int64()
	if err != nil || n < 0 {
		return
	}
	d.buf = strconv.AppendInt(d.buf[:0], n, 10)
	ev.Object.Version = d.in.Bytes(d.buf)
}

// deriveMount guesses the mount of a path when the entry does not name it:
// "auth/<method>/" for auth paths, else the first segment.
func deriveMount(path []byte) []byte {
	i := indexByte(path, '/')
	if i < 0 {
		return path
	}
	if string(path[:i]) == "auth" {
		if j := indexByte(path[i+1:], '/'); j >= 0 {
			return path[:i+1+j+1]
		}
		return path
	}
	return path[:i+1]
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// object returns the object at key, or nil when it is absent or not an
// object.
func object(v *fastjson.Value, key string) *fastjson.Value {
	x := v.Get(key)
	if x == nil || x.Type() != fastjson.TypeObject {
		return nil
	}
	return x
}
