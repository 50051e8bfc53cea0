package azurekv

import (
	"encoding/binary"
	"unsafe"

	"vaultwatch/internal/event"
)

// A caller makes many calls in a row, and often reads one object again
// and again: consecutive records repeat their identity object, and often
// their properties object, byte for byte. The raw reader remembers the
// last few of each, with where the values it reads lie in them, and what
// the decoder made of them (the caller; the object). A record that repeats
// one is read with one comparison of bytes instead of a walk over its
// members, and its caller or object is taken as made before.
//
// A JSON object ends where its text does, so when a record's bytes start
// with a remembered object, the object is that one, whatever follows.

const (
	objMemoSize = 4    // objects remembered, of each kind
	maxObjMemo  = 2048 // longer objects are not remembered
)

// span locates bytes within a remembered object; n == 0 is no bytes.
type span struct{ off, n int32 }

// spanOf returns where s, a slice of b that starts at from, lies.
func spanOf(s, b []byte, from int) span {
	if len(s) == 0 {
		return span{}
	}
	off := uintptr(unsafe.Pointer(unsafe.SliceData(s))) - uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return span{off: int32(int(off) - from), n: int32(len(s))}
}

// at returns the bytes of sp in the object that starts at b[from].
func (sp span) at(b []byte, from int) []byte {
	if sp.n == 0 {
		return nil
	}
	i := from + int(sp.off)
	j := i + int(sp.n)
	return b[i:j:j]
}

// valSpan is a value whose text is a span.
type valSpan struct {
	kind  valueKind
	numOK bool
	num   float64
	text  span
}

func valSpanOf(v value, b []byte, from int) valSpan {
	return valSpan{kind: v.kind, numOK: v.numOK, num: v.num, text: spanOf(v.text, b, from)}
}

func (v valSpan) at(b []byte, from int) value {
	return value{kind: v.kind, numOK: v.numOK, num: v.num, text: v.text.at(b, from)}
}

// identityEntry is a remembered identity object.
type identityEntry struct {
	claims [numClaims]span
	caller event.Caller // made from the claims, when callerOK
	// callerOK is set once the decoder made the caller of these claims.
	callerOK bool
}

// propsEntry is a remembered properties object.
type propsEntry struct {
	seen               uint // the seen bits of the keys it holds
	id, clientInfo     span
	requestURI, status valSpan
	apMatch, rbac      valSpan
	object             event.Object // made from id or requestURI, when objectOK
	objectOK           bool
}

// objMemo remembers the last objMemoSize objects of one kind: their text
// and an entry for each.
type objMemo[E any] struct {
	text [objMemoSize][]byte
	e    [objMemoSize]E
	n    int // entries in use
	next int // the entry to replace next
	last int // the entry found or added last, looked at first
	// Objects found and not found lately: when few repeat (records in
	// no order), remembering them costs more than it saves, and only
	// one in coolEvery is.
	hits, misses uint32
}

const coolEvery = 16

// find returns the entry whose text b[i:] starts with, and the length of
// that text, or nil.
func (m *objMemo[E]) find(b []byte, i int) (*E, int) {
	if m.n == 0 {
		return nil, 0
	}
	if m.at(m.last, b, i) {
		m.hits++
		return &m.e[m.last], len(m.text[m.last])
	}
	if m.cold() {
		// Only the last one is looked at, until they repeat again.
		m.misses++
		return nil, 0
	}
	for k := 0; k < m.n; k++ {
		if k != m.last && m.at(k, b, i) {
			m.hits++
			m.last = k
			return &m.e[k], len(m.text[k])
		}
	}
	m.misses++
	return nil, 0
}

// cold reports whether few objects repeat lately.
func (m *objMemo[E]) cold() bool {
	return m.misses >= 16 && m.hits*4 < m.misses
}

// want reports whether to remember an object not found.
func (m *objMemo[E]) want() bool {
	if m.hits+m.misses >= 1024 {
		m.hits, m.misses = m.hits/2, m.misses/2
	}
	return !m.cold() || m.misses%coolEvery == 0
}

// at reports whether b[i:] starts with the text of entry k. Where the
// text ends, b must end a value too: most texts that differ are told
// apart there without comparing them.
func (m *objMemo[E]) at(k int, b []byte, i int) bool {
	t := m.text[k]
	n := len(t)
	if len(b)-i < n || n == 0 || b[i+n-1] != t[n-1] {
		return false
	}
	if n >= 24 {
		// Past the first key, and halfway: where texts of one length
		// differ, mostly.
		le := binary.LittleEndian
		if le.Uint64(b[i+16:]) != le.Uint64(t[16:]) || le.Uint64(b[i+n/2:]) != le.Uint64(t[n/2:]) {
			return false
		}
	}
	if len(b)-i > n {
		switch b[i+n] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return string(b[i:i+n]) == string(t)
}

// add returns the entry to remember the object text in, replacing the
// oldest.
func (m *objMemo[E]) add(text []byte) *E {
	k := m.next
	m.next = (m.next + 1) % objMemoSize
	m.n = max(m.n, k+1)
	m.last = k
	m.text[k] = append(m.text[k][:0], text...)
	return &m.e[k]
}

// shape is the raw reader's memory of a stream's records: the identity and
// properties objects it read last.
type shape struct {
	ids   objMemo[identityEntry]
	props objMemo[propsEntry]
}

// rememberIdentity keeps the identity object b[from:to], whose claims
// have been read into c.
func (sh *shape) rememberIdentity(b []byte, from, to int, c *claims) *identityEntry {
	if to-from > maxObjMemo || !sh.ids.want() {
		return nil
	}
	e := sh.ids.add(b[from:to])
	for n := range e.claims {
		e.claims[n] = spanOf(c[n], b, from)
	}
	e.callerOK = false
	return e
}

// restore sets c to the claims of e, found at b[from:].
func (e *identityEntry) restore(b []byte, from int, c *claims) {
	for n, sp := range e.claims {
		if sp.n != 0 {
			c[n] = sp.at(b, from)
		}
	}
}

// rememberProps keeps the properties object b[from:to], read into f with
// seen bits seen.
func (sh *shape) rememberProps(b []byte, from, to int, f *fields, seen uint) *propsEntry {
	if to-from > maxObjMemo || !sh.props.want() {
		return nil
	}
	e := sh.props.add(b[from:to])
	e.seen = seen & propsSeen
	e.id = spanOf(f.id, b, from)
	e.clientInfo = spanOf(f.clientInfo, b, from)
	e.requestURI = valSpanOf(f.requestURI, b, from)
	e.status = valSpanOf(f.status, b, from)
	e.apMatch = valSpanOf(f.apMatch, b, from)
	e.rbac = valSpanOf(f.rbac, b, from)
	e.objectOK = false
	return e
}

// restore sets f to the values of e, found at b[from:].
func (e *propsEntry) restore(b []byte, from int, f *fields) {
	f.id = e.id.at(b, from)
	f.clientInfo = e.clientInfo.at(b, from)
	f.requestURI = e.requestURI.at(b, from)
	f.status = e.status.at(b, from)
	f.apMatch = e.apMatch.at(b, from)
	f.rbac = e.rbac.at(b, from)
}

// propsSeen are the seen bits of the keys of properties.
const propsSeen = seenID | seenRequestURI | seenClientInfo | seenStatus | seenAPMatch | seenRBAC
