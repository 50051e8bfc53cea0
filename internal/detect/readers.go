package detect

import (
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// Caps on the readers remembered: per object, and objects in all.
const (
	maxReadersPerObject = 16
	maxReaderObjects    = 1 << 20
)

// objKey is one object of one vault, whatever its version.
type objKey struct {
	vault string
	kind  event.ObjectKind
	name  string
}

// reader is a caller that read an object, and when it first did.
type reader struct {
	name  string
	first time.Time
}

// readers remembers who reads each secret, key and certificate: an alert
// names, for every object the suspicious caller touched, the identities
// that normally read it, those that must receive the value when it is
// rotated.
type readers struct {
	m       map[objKey][]reader
	Evicted int64

	// last is the last (object, reader) recorded, with its first read: a
	// caller reading one secret again and again asks nothing of m. A
	// cache, not state.
	last      objKey
	lastName  string
	lastFirst time.Time
}

// see records a successful read.
func (r *readers) see(e *event.Event) {
	k := objKey{e.Vault.ID, e.Object.Kind, e.Object.Name}
	name := callerName(e)
	if k == r.last && name == r.lastName && !e.Time.Before(r.lastFirst) {
		return
	}
	list, ok := r.m[k]
	if !ok && len(r.m) >= maxReaderObjects {
		r.Evicted += int64(len(r.m))
		clear(r.m)
		r.lastName = ""
	}
	for i := range list {
		if list[i].name == name {
			if e.Time.Before(list[i].first) {
				list[i].first = e.Time
			}
			r.last, r.lastName, r.lastFirst = k, name, list[i].first
			return
		}
	}
	if len(list) < maxReadersPerObject {
		r.m[k] = append(list, reader{name, e.Time})
		r.last, r.lastName, r.lastFirst = k, name, e.Time
	}
}

// readBy reports whether e's caller read e's object before e.
func (r *readers) readBy(e *event.Event) bool {
	name := callerName(e)
	for _, rd := range r.m[objKey{e.Vault.ID, e.Object.Kind, e.Object.Name}] {
		if rd.name == name && rd.first.Before(e.Time) {
			return true
		}
	}
	return false
}

// annotate fills in the normal readers of an alert's objects: those that
// read the object before the alert began.
func (r *readers) annotate(a *alert.Alert) {
	if a.Vault.ID == "" {
		return
	}
	for i := range a.Evidence.Objects {
		ob := &a.Evidence.Objects[i]
		ob.NormalReaders = nil
		for _, rd := range r.m[objKey{a.Vault.ID, event.ObjectKind(ob.Kind), ob.Name}] {
			if rd.first.Before(a.StartTime) {
				ob.NormalReaders = append(ob.NormalReaders, rd.name)
			}
		}
	}
}
