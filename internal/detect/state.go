package detect

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// The engine's state is saved so that scans can be incremental (scanning
// day by day raises the alerts of one scan over all the days) and so that
// the server keeps what it learned across restarts.
//
// The format, all numbers varints (encoding/binary):
//
//	"VWST" version(1)
//	base             Unix seconds that times are written relative to
//	strings          count, then each as length and bytes: every vault,
//	                 principal, object and label once; index 0 is ""
//	engine           its section: version, counters, first sightings,
//	                 readers, callers' names, open alerts
//	detectors        count, then each: name (its first alert type),
//	                 length, and the detector's own section, which starts
//	                 with its own version
//	CRC-32 (IEEE) of all the above, 4 bytes little endian
//
// Maps are written in a stable order (see sortedKeys), so that the same
// state gives the same bytes. A time is written as its seconds from base
// and its sub-second part at the coarsest exact unit (milliseconds,
// microseconds or nanoseconds). Open alerts, and a detector's held-back activity (Prior),
// are written as JSON: they are few, and JSON carries every field of
// types that change often.

// ErrBadState is wrapped by the errors LoadState returns about the data:
// not a saved state, a version this build cannot read, truncated or
// corrupt.
var ErrBadState = errors.New("invalid detection state")

const (
	stateMagic   = "VWST"
	stateVersion = 1
)

// stateful is a detector with learned state, which the engine saves and
// restores with its own. Stateless detectors need nothing.
type stateful interface {
	Detector
	// saveState writes the detector's state, starting with the version of
	// its encoding.
	saveState(w *stateWriter)
	// loadState reads what saveState wrote. It changes nothing: it returns
	// the function that installs what it read, which the engine calls only
	// once the whole state has been read without error.
	loadState(r *stateReader) (commit func(), err error)
}

// stateFields lists the fields of every struct the engine's state is made
// of. A field is saved (or rebuilt from what is saved) unless it is marked
// "-": configuration the engine is built with (a detector's settings are
// written with its state all the same, see setting), wiring, and caches of
// what is saved. A type marked "json" is written as JSON: every field of
// it, and of the types in it, must be exported. A test walks the engine and
// every detector by reflection and fails on a field missing here, so that
// new state is not forgotten: add the field here and to its saveState and
// loadState.
var stateFields = map[string]string{
	"Engine":     "vaults anywhere onVault nets readers names agg Stats -cfg -detectors -ctx -ev -lastIP -lastClass -lastVault -lastVaultSince",
	"callerInfo": "name person",
	"Stats":      "Events Findings Alerts Evicted",
	"aggregator": "open byVP lastSweep -gap -emit -stats -readers",
	"readers":    "m Evicted -last -lastName -lastFirst",
	"objKey":     "vault kind name",
	"reader":     "name first",
	"openAlert":  "a key vp objects seen net -changed",
	"vpKey":      "vault principal",
	"firstSeen":  "m max Evicted -recent -next", // recent: a cache of m
	"burst":      "n span m",
	"ring":       "t label next full last",
	"vp":         "vault principal",
	"vpo":        "vault principal kind object op",
	"vpc":        "vault principal class",
	"famNet":     "family net",
	"Vault":      "ID Name", // event.Vault

	"DestructiveBurst":    "-Objects -Window w",
	"CredentialProbing":   "-Calls -Window w",
	"CryptoVolume":        "-Calls -Window pairs w",
	"CrossProvider":       "-Window known recent",
	"recentRead":          "family vault t",
	"ManyVaults":          "-MinVaults -Window ok no",
	"vaultSpread":         "window min m -lastP -last",
	"spread":              "first vaults peak known n fresh until -lastID -lastX",
	"spreadVault":         "v t",
	"UnusualUserDenied":   "used",
	"PolicyChangeThenGet": "-Window changes objs",
	"policyChange":        "t vault op first",
	"ListThenGet":         "-MinReads -Window runs peak",
	"listRun":             "t objects alerted",
	"Newcomers":           "grants vaultUsers userVaults people -near",
	"grant":               "t who",
	"OperationPattern":    "classes",
	"HighVolume":          "-MinCalls -VaultMinCalls -Factor m vaults -lastPair -lastVault",
	"volume":              "hour n prev peak first alerted held heldHour week",
	"vaultVolume":         "volume callers people",
	"UnusualIP":           "pairs -lastPair",
	"netProfile":          "nets kinds pending",
	"pendingNet":          "prior label byDeeds",
	"Prior":               "json",
	"Alert":               "json", // alert.Alert, of an open alert
	"UserAppPair":         "pairs apps users",
	"ThreatIntel":         "",
	"Decoy":               "",
	"AuditTampering":      "",
	"PrivilegedToken":     "",
}

// SaveState writes the engine's learned state to w: first sightings,
// baselines, windows, the alerts still open and the counters. LoadState
// reads it back. The engine's configuration (learning period, threat
// intelligence, decoys) is not part of it.
func (e *Engine) SaveState(w io.Writer) error {
	sw := &stateWriter{index: map[string]uint64{}}
	if !e.agg.lastSweep.IsZero() {
		sw.base = e.agg.lastSweep.Unix()
	}
	if err := e.saveEngine(sw); err != nil {
		return fmt.Errorf("saving detection state: %w", err)
	}
	var ds []stateful
	for _, d := range e.detectors {
		if s, ok := d.(stateful); ok {
			ds = append(ds, s)
		}
	}
	sw.count(len(ds))
	for _, d := range ds {
		sw.section(stateName(d), func() { d.saveState(sw) })
	}
	if sw.err != nil {
		return fmt.Errorf("saving detection state: %w", sw.err)
	}
	head := []byte(stateMagic)
	head = binary.AppendUvarint(head, stateVersion)
	head = binary.AppendVarint(head, sw.base)
	head = binary.AppendUvarint(head, uint64(len(sw.strs)))
	for _, s := range sw.strs {
		head = binary.AppendUvarint(head, uint64(len(s)))
		head = append(head, s...)
	}
	crc := crc32.NewIEEE()
	out := io.MultiWriter(w, crc)
	if _, err := out.Write(head); err != nil {
		return fmt.Errorf("saving detection state: %w", err)
	}
	if _, err := out.Write(sw.buf); err != nil {
		return fmt.Errorf("saving detection state: %w", err)
	}
	if _, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32())); err != nil {
		return fmt.Errorf("saving detection state: %w", err)
	}
	return nil
}

// LoadState replaces the engine's learned state with one SaveState wrote,
// from an engine with the same detectors (the state of a detector this
// engine does not run is skipped; one it runs that the state lacks keeps
// its own, nothing on a fresh engine). Call it before the first event. A
// state that cannot be read returns an error wrapping ErrBadState and
// leaves the engine as it was.
//
// A detector's settings (Window, MinCalls, ...) left at zero take the
// values the state was saved with; one set to a different value is an
// error, since the saved windows were built with it.
func (e *Engine) LoadState(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return fmt.Errorf("reading detection state: %w", err)
	}
	r, err := openState(b)
	if err != nil {
		return err
	}
	commits := []func(){}
	r.where = "engine"
	c, err := e.loadEngine(r)
	if err != nil {
		return err
	}
	commits = append(commits, c)
	loaded := map[Detector]bool{}
	n := r.count()
	for range n {
		r.where = "detector list"
		name := r.str()
		body := r.bytes()
		if r.err != nil {
			return r.err
		}
		var d stateful
		for _, x := range e.detectors {
			if s, ok := x.(stateful); ok && !loaded[x] && slices.Contains(x.Types(), alert.Type(name)) {
				d = s
				break
			}
		}
		if d == nil {
			continue // a detector this engine does not run
		}
		loaded[d] = true
		sr := &stateReader{b: body, strs: r.strs, base: r.base, where: name}
		c, err := d.loadState(sr)
		if err == nil && sr.err == nil && sr.off != len(sr.b) {
			sr.fail("%d bytes left over", len(sr.b)-sr.off)
		}
		if err == nil {
			err = sr.err
		}
		if err != nil {
			return err
		}
		commits = append(commits, c)
	}
	r.where = "end"
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d bytes left over", len(r.b)-r.off)
	}
	if r.err != nil {
		return r.err
	}
	for _, c := range commits {
		c()
	}
	return nil
}

// Checkpoint hands out a filled-in copy (see alert.Alert.Fill) of every
// alert still open, in start order, and keeps them open. A scan whose
// state is saved calls it at its end instead of Flush, so that the next
// scan can extend those alerts: the copy carries the alert's ID (which
// depends on its type, vault, first entity and start, never on its end or
// count; Checkpoint pins it on the open alert), and the next scan hands
// out the finished alert under the same ID, to replace it. The copies are
// the receiver's to keep; they are not counted in Stats.Alerts.
func (e *Engine) Checkpoint(out func(*alert.Alert)) { e.handOut(out, false) }

// Changed is Checkpoint for the open alerts that changed since the last
// call of Changed (or Checkpoint): a live pipeline stores an alert while it
// grows without copying every open alert at every batch.
func (e *Engine) Changed(out func(*alert.Alert)) { e.handOut(out, true) }

func (e *Engine) handOut(out func(*alert.Alert), changedOnly bool) {
	var list []*openAlert
	for _, o := range e.agg.open {
		if o.changed || !changedOnly {
			list = append(list, o)
		}
	}
	open := slices.SortedFunc(slices.Values(list), func(x, y *openAlert) int {
		if c := x.a.StartTime.Compare(y.a.StartTime); c != 0 {
			return c
		}
		return strings.Compare(x.key, y.key)
	})
	for _, o := range open {
		o.changed = false
		if !e.cfg.Since.IsZero() && o.a.EndTime.Before(e.cfg.Since) {
			continue
		}
		if !e.cfg.Until.IsZero() && o.a.StartTime.After(e.cfg.Until) {
			continue
		}
		a, err := cloneAlert(&o.a)
		if err != nil {
			continue // cannot happen: an alert is plain data
		}
		e.readers.annotate(a)
		a.Fill()
		// Pin the id: the alert's first entity may still change (a
		// vault-wide alert collects every caller's), its id must not.
		o.a.ID = a.ID
		out(a)
	}
}

// cloneAlert deep-copies an alert, so that the copy does not change as the
// open alert grows.
func cloneAlert(a *alert.Alert) (*alert.Alert, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	var c alert.Alert
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// stateName names a detector's section: its first alert type, a stable id
// (LoadState matches it with any of a detector's types).
func stateName(d Detector) string {
	if ts := d.Types(); len(ts) > 0 {
		return string(ts[0])
	}
	return fmt.Sprintf("%T", d)
}

// openState checks the header and the checksum and reads the string table.
func openState(b []byte) (*stateReader, error) {
	if len(b) < len(stateMagic) || string(b[:len(stateMagic)]) != stateMagic {
		return nil, fmt.Errorf("%w: not a vaultwatch detection state (it does not start with %q)", ErrBadState, stateMagic)
	}
	r := &stateReader{b: b, off: len(stateMagic), where: "header"}
	v := r.uvarint()
	if r.err != nil {
		return nil, fmt.Errorf("%w: truncated (%d bytes)", ErrBadState, len(b))
	}
	if v != stateVersion {
		return nil, fmt.Errorf("%w: format version %d, this build reads version %d", ErrBadState, v, stateVersion)
	}
	if len(b) < r.off+4 {
		return nil, fmt.Errorf("%w: truncated (%d bytes)", ErrBadState, len(b))
	}
	body := b[:len(b)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(b[len(body):]) {
		return nil, fmt.Errorf("%w: truncated or corrupt (%d bytes, checksum mismatch)", ErrBadState, len(b))
	}
	r.b = body
	r.base = r.varint()
	r.where = "string table"
	n := r.count()
	// One string holds the whole table: one allocation, not one a string.
	start := r.off
	bounds := make([]int, 0, 2*n)
	for range n {
		l := r.count()
		bounds = append(bounds, r.off-start, r.off-start+l)
		r.off += l
	}
	if r.err != nil {
		return nil, r.err
	}
	all := string(b[start:r.off])
	r.strs = make([]string, n)
	for i := range r.strs {
		r.strs[i] = all[bounds[2*i]:bounds[2*i+1]]
	}
	return r, nil
}

// stateWriter appends the encoding of the state to buf, interning strings.
type stateWriter struct {
	buf   []byte
	index map[string]uint64 // string -> its index in strs, plus one
	strs  []string
	last  [2]struct { // see strCached
		s string
		i uint64
	}
	base int64 // Unix seconds
	err  error
}

func (w *stateWriter) uvarint(x uint64) { w.buf = binary.AppendUvarint(w.buf, x) }
func (w *stateWriter) varint(x int64)   { w.buf = binary.AppendVarint(w.buf, x) }
func (w *stateWriter) int(x int)        { w.varint(int64(x)) }
func (w *stateWriter) count(n int)      { w.uvarint(uint64(n)) }

func (w *stateWriter) bool(b bool) {
	if b {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

// str writes s as its index in the string table.
func (w *stateWriter) str(s string) { w.uvarint(w.intern(s)) }

// intern returns the index of s in the string table, adding it.
func (w *stateWriter) intern(s string) uint64 {
	if s == "" {
		return 0
	}
	i, ok := w.index[s]
	if !ok {
		w.strs = append(w.strs, s)
		i = uint64(len(w.strs))
		w.index[s] = i
	}
	return i
}

// strCached is str for a field that repeats from one key to the next (a
// vault, slot 0, or a principal, slot 1: keys are written grouped by
// them), without a lookup in the table when it does.
func (w *stateWriter) strCached(slot int, s string) {
	c := &w.last[slot]
	if c.i == 0 || c.s != s {
		c.s, c.i = s, w.intern(s)
	}
	w.uvarint(c.i)
}

// bytes writes b with its length.
func (w *stateWriter) bytes(b []byte) {
	w.count(len(b))
	w.buf = append(w.buf, b...)
}

// json writes v as JSON, with its length.
func (w *stateWriter) json(v any) {
	b, err := json.Marshal(v)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.bytes(b)
}

func (w *stateWriter) time(t time.Time) {
	if t.IsZero() {
		w.uvarint(0)
		return
	}
	w.uvarint(zigzag(t.Unix()-w.base) + 1)
	switch ns := uint64(t.Nanosecond()); {
	case ns == 0:
		w.uvarint(0)
	case ns%1e6 == 0:
		w.uvarint(ns/1e6<<2 | 1)
	case ns%1e3 == 0:
		w.uvarint(ns/1e3<<2 | 2)
	default:
		w.uvarint(ns<<2 | 3)
	}
}

func (w *stateWriter) duration(d time.Duration) { w.varint(int64(d)) }

func (w *stateWriter) addr(a netip.Addr) { w.bytes(a.AsSlice()) }

func (w *stateWriter) prefix(p netip.Prefix) {
	if !p.IsValid() {
		w.bytes(nil)
		return
	}
	w.addr(p.Addr())
	w.uvarint(uint64(p.Bits()))
}

func (w *stateWriter) vault(v event.Vault) { w.strCached(0, v.ID); w.str(v.Name) }
func (w *stateWriter) vp(k vp)             { w.strCached(0, k.vault); w.strCached(1, k.principal) }
func (w *stateWriter) vpc(k vpc)           { w.vp(vp{k.vault, k.principal}); w.str(string(k.class)) }
func (w *stateWriter) famNet(k famNet)     { w.str(k.family); w.prefix(k.net) }

func (w *stateWriter) vpo(k vpo) {
	w.vp(vp{k.vault, k.principal})
	w.str(string(k.kind))
	w.str(k.object)
	w.str(k.op)
}

// section writes what f writes with its name and length, so that a reader
// can skip it.
func (w *stateWriter) section(name string, f func()) {
	outer := w.buf
	w.buf = nil
	f()
	body := w.buf
	w.buf = outer
	w.str(name)
	w.bytes(body)
}

func zigzag(x int64) uint64   { return uint64(x<<1) ^ uint64(x>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// stateReader reads what stateWriter wrote. The first problem sticks: every
// read after it returns zero values, and err says where it happened.
type stateReader struct {
	b     []byte
	off   int
	strs  []string
	base  int64
	where string // the section being read
	err   error
}

func (r *stateReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s, at byte %d: %s", ErrBadState, r.where, r.off, fmt.Sprintf(format, args...))
	}
}

func (r *stateReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("truncated or invalid number")
		return 0
	}
	r.off += n
	return v
}

func (r *stateReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("truncated or invalid number")
		return 0
	}
	r.off += n
	return v
}

func (r *stateReader) int() int {
	v := r.varint()
	if int64(int(v)) != v {
		r.fail("number %d out of range", v)
		return 0
	}
	return int(v)
}

// count reads a number of elements or bytes that follow: never more than
// the bytes left, so that a corrupt count cannot make a huge allocation.
func (r *stateReader) count() int {
	v := r.uvarint()
	if v > uint64(len(r.b)-r.off) {
		r.fail("count %d larger than the %d bytes left", v, len(r.b)-r.off)
		return 0
	}
	return int(v)
}

// positive reads a size that must be at least one.
func (r *stateReader) positive(what string) int {
	v := r.int()
	if v <= 0 && r.err == nil {
		r.fail("%s %d: want at least 1", what, v)
		return 1
	}
	return max(v, 1)
}

func (r *stateReader) bool() bool {
	if r.err != nil {
		return false
	}
	if r.off >= len(r.b) {
		r.fail("truncated")
		return false
	}
	b := r.b[r.off]
	r.off++
	if b > 1 {
		r.fail("invalid boolean %d", b)
	}
	return b == 1
}

func (r *stateReader) str() string {
	i := r.uvarint()
	switch {
	case i == 0:
		return ""
	case i > uint64(len(r.strs)):
		r.fail("string %d of %d", i, len(r.strs))
		return ""
	}
	return r.strs[i-1]
}

func (r *stateReader) bytes() []byte {
	n := r.count()
	if r.err != nil {
		return nil
	}
	b := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

func (r *stateReader) json(v any) {
	b := r.bytes()
	if r.err != nil {
		return
	}
	if err := json.Unmarshal(b, v); err != nil {
		r.fail("%v", err)
	}
}

func (r *stateReader) time() time.Time {
	s := r.uvarint()
	if s == 0 {
		return time.Time{}
	}
	sec := unzigzag(s-1) + r.base
	v := r.uvarint()
	ns := v >> 2
	switch v & 3 {
	case 1:
		ns *= 1e6
	case 2:
		ns *= 1e3
	}
	if ns >= 1e9 {
		r.fail("invalid time")
		return time.Time{}
	}
	return time.Unix(sec, int64(ns)).UTC()
}

func (r *stateReader) duration() time.Duration { return time.Duration(r.varint()) }

func (r *stateReader) addr() netip.Addr {
	b := r.bytes()
	if len(b) == 0 {
		return netip.Addr{}
	}
	a, ok := netip.AddrFromSlice(b)
	if !ok {
		r.fail("invalid address of %d bytes", len(b))
	}
	return a
}

func (r *stateReader) prefix() netip.Prefix {
	a := r.addr()
	if !a.IsValid() {
		return netip.Prefix{}
	}
	bits := r.uvarint()
	if bits > uint64(a.BitLen()) {
		r.fail("invalid prefix length %d", bits)
		return netip.Prefix{}
	}
	return netip.PrefixFrom(a, int(bits))
}

func (r *stateReader) vault() event.Vault { return event.Vault{ID: r.str(), Name: r.str()} }
func (r *stateReader) vp() vp             { return vp{r.str(), r.str()} }
func (r *stateReader) vpc() vpc           { return vpc{r.str(), r.str(), event.Class(r.str())} }
func (r *stateReader) famNet() famNet     { return famNet{r.str(), r.prefix()} }

func (r *stateReader) vpo() vpo {
	return vpo{vault: r.str(), principal: r.str(), kind: event.ObjectKind(r.str()), object: r.str(), op: r.str()}
}

// version reads a section's version and checks it is the one this build
// writes.
func (r *stateReader) version(want uint64) {
	if v := r.uvarint(); v != want && r.err == nil {
		r.fail("version %d, this build reads version %d", v, want)
	}
}

// setting returns the value a detector's setting takes with a restored
// state: the saved one when the detector's own is zero (a default filled
// in at first use), and an error when it was set to another.
func setting[T comparable](r *stateReader, name string, cur, saved T) T {
	var zero T
	if cur != zero && cur != saved {
		r.fail("%s is %v in this engine but %v in the state", name, cur, saved)
	}
	return saved
}

// Key orders. Maps are written in the order of a hash of their keys that
// is the same in every process (ties broken by comparing the keys): the
// same state gives the same bytes, without the cost of sorting keys that
// share long prefixes (Azure resource ids) by comparing them.

// hashString mixes s into h.
func hashString(h uint64, s string) uint64 {
	const m = 0x9e3779b97f4a7c15
	h = (h ^ uint64(len(s))) * m
	for ; len(s) >= 8; s = s[8:] {
		x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ x) * m
		h ^= h >> 31
	}
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * m
	}
	return h ^ h>>29
}

func hashAddr(h uint64, a netip.Addr) uint64 {
	b := a.As16()
	return hashString(h^uint64(a.BitLen()), string(b[:]))
}

func hashPrefix(h uint64, p netip.Prefix) uint64 {
	return hashAddr(h, p.Addr()) ^ uint64(p.Bits()+1)*0x100000001b3
}

// group makes an order hash of a group's hash (its high half) and a
// member's (its low half): keys of one vault, or of one caller on one
// vault, come one after the other, and their repeated strings are written
// at little cost (see stateWriter.strCached).
func group(g, member uint64) uint64 { return g&^0xffffffff | member&0xffffffff }

func hashStr(k string) uint64             { return hashString(0, k) }
func hashVP(k vp) uint64                  { return group(hashString(0, k.vault), hashString(0, k.principal)) }
func hashFamNet(k famNet) uint64          { return hashPrefix(hashString(0, k.family), k.net) }
func hashOneAddr(a netip.Addr) uint64     { return hashAddr(0, a) }
func hashOnePrefix(p netip.Prefix) uint64 { return hashPrefix(0, p) }

func hashVPC(k vpc) uint64 {
	return group(hashString(hashString(0, k.vault), k.principal), hashString(0, string(k.class)))
}

func hashObjKey(k objKey) uint64 {
	return group(hashString(0, k.vault), hashString(hashString(0, string(k.kind)), k.name))
}

func cmpObjKey(a, b objKey) int {
	if c := strings.Compare(a.vault, b.vault); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.kind), string(b.kind)); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

func hashVPO(k vpo) uint64 {
	return group(hashString(hashString(0, k.vault), k.principal),
		hashString(hashString(hashString(0, string(k.kind)), k.object), k.op))
}

func cmpString(a, b string) int { return strings.Compare(a, b) }

func cmpVP(a, b vp) int {
	if c := strings.Compare(a.vault, b.vault); c != 0 {
		return c
	}
	return strings.Compare(a.principal, b.principal)
}

func cmpVPO(a, b vpo) int {
	for _, c := range [...]int{
		strings.Compare(a.vault, b.vault), strings.Compare(a.principal, b.principal),
		strings.Compare(string(a.kind), string(b.kind)), strings.Compare(a.object, b.object),
	} {
		if c != 0 {
			return c
		}
	}
	return strings.Compare(a.op, b.op)
}

func cmpVPC(a, b vpc) int {
	if c := cmpVP(vp{a.vault, a.principal}, vp{b.vault, b.principal}); c != 0 {
		return c
	}
	return strings.Compare(string(a.class), string(b.class))
}

func cmpFamNet(a, b famNet) int {
	if c := strings.Compare(a.family, b.family); c != 0 {
		return c
	}
	return a.net.Compare(b.net)
}

type hashIndex struct {
	h uint64
	i int
}

// sorted returns m's entries in the order of their keys' hash, then cmp.
func sorted[K comparable, V any](m map[K]V, hash func(K) uint64, cmp func(K, K) int) iter.Seq2[K, V] {
	keys := make([]K, 0, len(m))
	vals := make([]V, 0, len(m))
	hs := make([]hashIndex, 0, len(m))
	for k, v := range m {
		hs = append(hs, hashIndex{hash(k), len(keys)})
		keys = append(keys, k)
		vals = append(vals, v)
	}
	slices.SortFunc(hs, func(a, b hashIndex) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return cmp(keys[a.i], keys[b.i])
	})
	return func(yield func(K, V) bool) {
		for _, x := range hs {
			if !yield(keys[x.i], vals[x.i]) {
				return
			}
		}
	}
}

// sortedKeys returns m's keys in that order.
func sortedKeys[K comparable, V any](m map[K]V, hash func(K) uint64, cmp func(K, K) int) []K {
	out := make([]K, 0, len(m))
	for k := range sorted(m, hash, cmp) {
		out = append(out, k)
	}
	return out
}

// saveFirstSeen writes f (nil included).
func saveFirstSeen[K comparable](w *stateWriter, f *firstSeen[K], key func(*stateWriter, K), hash func(K) uint64, cmp func(K, K) int) {
	if f == nil {
		w.bool(false)
		return
	}
	w.bool(true)
	w.int(f.max)
	w.varint(f.Evicted)
	w.count(len(f.m))
	for k, t := range sorted(f.m, hash, cmp) {
		key(w, k)
		w.time(t)
	}
}

func loadFirstSeen[K comparable](r *stateReader, key func(*stateReader) K) *firstSeen[K] {
	if !r.bool() {
		return nil
	}
	f := &firstSeen[K]{max: r.positive("cap"), Evicted: r.varint()}
	n := r.count()
	f.m = make(map[K]time.Time, n)
	for range n {
		k := key(r)
		f.m[k] = r.time()
		if r.err != nil {
			return nil
		}
	}
	return f
}

// saveBurst writes b (nil included): of each ring only the slots written.
func saveBurst[K comparable](w *stateWriter, b *burst[K], key func(*stateWriter, K), hash func(K) uint64, cmp func(K, K) int) {
	if b == nil {
		w.bool(false)
		return
	}
	w.bool(true)
	w.int(b.n)
	w.duration(b.span)
	w.count(len(b.m))
	for k, rg := range sorted(b.m, hash, cmp) {
		key(w, k)
		w.int(rg.next)
		w.bool(rg.full)
		w.time(rg.last)
		size := rg.next
		if rg.full {
			size = b.n
		}
		for i := range size {
			w.time(rg.t[i])
			w.str(rg.label[i])
		}
	}
}

// maxRing bounds the hits a window keeps per key in a state read back (the
// detectors keep a few dozen), so that a corrupt size cannot allocate much.
const maxRing = 1 << 12

func loadBurst[K comparable](r *stateReader, key func(*stateReader) K) *burst[K] {
	if !r.bool() {
		return nil
	}
	b := &burst[K]{n: r.positive("window size"), span: r.duration()}
	if b.n > maxRing {
		r.fail("window size %d larger than %d", b.n, maxRing)
		return nil
	}
	n := r.count()
	b.m = make(map[K]*ring, n)
	for range n {
		k := key(r)
		rg := &ring{t: make([]time.Time, b.n), label: make([]string, b.n), next: r.int(), full: r.bool(), last: r.time()}
		if rg.next < 0 || rg.next >= b.n {
			r.fail("ring position %d of %d", rg.next, b.n)
		}
		size := rg.next
		if rg.full {
			size = b.n
		}
		for i := range size {
			if r.err != nil {
				break
			}
			rg.t[i], rg.label[i] = r.time(), r.str()
		}
		if r.err != nil {
			return nil
		}
		b.m[k] = rg
	}
	return b
}

// The engine's own state.

const engineStateVersion = 1

func (e *Engine) saveEngine(w *stateWriter) error {
	w.uvarint(engineStateVersion)
	st := &e.Stats
	w.varint(st.Events)
	w.varint(st.Findings)
	w.varint(st.Alerts)
	w.varint(st.Evicted)
	ids := sortedKeys(e.vaults, hashStr, cmpString)
	w.count(len(ids))
	for _, id := range ids {
		w.str(id)
		w.time(e.vaults[id])
	}
	saveFirstSeen(w, e.anywhere, (*stateWriter).str, hashStr, cmpString)
	saveFirstSeen(w, e.onVault, (*stateWriter).vp, hashVP, cmpVP)
	saveFirstSeen(w, e.nets, (*stateWriter).prefix, hashOnePrefix, netip.Prefix.Compare)
	w.varint(e.readers.Evicted)
	w.count(len(e.readers.m))
	for k, list := range sorted(e.readers.m, hashObjKey, cmpObjKey) {
		w.strCached(0, k.vault)
		w.str(string(k.kind))
		w.str(k.name)
		w.count(len(list))
		for _, rd := range list {
			w.str(rd.name)
			w.time(rd.first)
		}
	}
	w.count(len(e.names))
	for p, info := range sorted(e.names, hashStr, cmpString) {
		w.str(p)
		w.str(info.name)
		w.bool(info.person)
	}
	g := &e.agg
	w.time(g.lastSweep)
	keys := sortedKeys(g.open, hashStr, cmpString)
	w.count(len(keys))
	for _, k := range keys {
		o := g.open[k]
		w.str(o.key)
		w.str(o.vp.vault)
		w.str(o.vp.principal)
		w.prefix(o.net)
		b, err := json.Marshal(&o.a)
		if err != nil {
			return fmt.Errorf("open alert %s: %w", o.a.Type, err)
		}
		w.bytes(b)
		seen := sortedKeys(o.seen, hashStr, cmpString)
		w.count(len(seen))
		for _, s := range seen {
			w.bytes([]byte(s))
		}
	}
	return nil
}

func (e *Engine) loadEngine(r *stateReader) (func(), error) {
	r.version(engineStateVersion)
	var st Stats
	st.Events, st.Findings, st.Alerts, st.Evicted = r.varint(), r.varint(), r.varint(), r.varint()
	n := r.count()
	vaults := make(map[string]time.Time, n)
	for range n {
		id := r.str()
		vaults[id] = r.time()
	}
	anywhere := loadFirstSeen(r, (*stateReader).str)
	onVault := loadFirstSeen(r, (*stateReader).vp)
	nets := loadFirstSeen(r, (*stateReader).prefix)
	if r.err == nil && (anywhere == nil || onVault == nil || nets == nil) {
		r.fail("first sightings missing")
	}
	rs := readers{Evicted: r.varint()}
	n = r.count()
	rs.m = make(map[objKey][]reader, n)
	for range n {
		k := objKey{vault: r.str(), kind: event.ObjectKind(r.str()), name: r.str()}
		list := make([]reader, r.count())
		for i := range list {
			list[i] = reader{name: r.str(), first: r.time()}
		}
		rs.m[k] = list
	}
	n = r.count()
	names := make(map[string]callerInfo, n)
	for range n {
		p := r.str()
		names[p] = callerInfo{name: r.str(), person: r.bool()}
	}
	lastSweep := r.time()
	n = r.count()
	open := make(map[string]*openAlert, n)
	byVP := map[vpKey][]*openAlert{}
	for range n {
		o := &openAlert{key: r.str(), vp: vpKey{r.str(), r.str()}, net: r.prefix(), objects: map[string]int{}, seen: map[string]bool{}}
		r.json(&o.a)
		ns := r.count()
		for range ns {
			o.seen[string(r.bytes())] = true
		}
		if r.err != nil {
			return nil, r.err
		}
		ev := &o.a.Evidence
		if ev.Operations == nil {
			ev.Operations = map[string]int{}
		}
		if ev.Outcomes == nil {
			ev.Outcomes = map[string]int{}
		}
		for i := range ev.Objects {
			ob := &ev.Objects[i]
			if ob.Operations == nil {
				ob.Operations = map[string]int{}
			}
			o.objects[event.Object{Kind: event.ObjectKind(ob.Kind), Name: ob.Name}.Key()] = i
		}
		open[o.key] = o
		byVP[o.vp] = append(byVP[o.vp], o)
	}
	if r.err != nil {
		return nil, r.err
	}
	return func() {
		e.Stats = st
		e.vaults, e.lastVault = vaults, ""
		// The caps are the engine's own.
		anywhere.max, onVault.max, nets.max = e.anywhere.max, e.onVault.max, e.nets.max
		e.anywhere, e.onVault, e.nets = anywhere, onVault, nets
		e.readers = rs // the aggregator points to it
		e.names = names
		e.agg.lastSweep, e.agg.open, e.agg.byVP = lastSweep, open, byVP
	}, nil
}

// The detectors' state. Each section starts with its version: change it
// when the encoding changes.

func (d *DestructiveBurst) saveState(w *stateWriter) {
	w.uvarint(1)
	w.bool(d.w != nil)
	if d.w == nil {
		return
	}
	w.int(d.Objects)
	w.duration(d.Window)
	saveBurst(w, d.w, (*stateWriter).vp, hashVP, cmpVP)
}

func (d *DestructiveBurst) loadState(r *stateReader) (func(), error) {
	r.version(1)
	if !r.bool() {
		return func() { d.w = nil }, r.err
	}
	objects := setting(r, "Objects", d.Objects, r.int())
	window := setting(r, "Window", d.Window, r.duration())
	b := loadBurst(r, (*stateReader).vp)
	if r.err != nil {
		return nil, r.err
	}
	return func() { d.Objects, d.Window, d.w = objects, window, b }, nil
}

func (d *CredentialProbing) saveState(w *stateWriter) {
	w.uvarint(1)
	w.bool(d.w != nil)
	if d.w == nil {
		return
	}
	w.int(d.Calls)
	w.duration(d.Window)
	saveBurst(w, d.w, (*stateWriter).str, hashStr, cmpString)
}

func (d *CredentialProbing) loadState(r *stateReader) (func(), error) {
	r.version(1)
	if !r.bool() {
		return func() { d.w = nil }, r.err
	}
	calls := setting(r, "Calls", d.Calls, r.int())
	window := setting(r, "Window", d.Window, r.duration())
	b := loadBurst(r, (*stateReader).str)
	if r.err != nil {
		return nil, r.err
	}
	return func() { d.Calls, d.Window, d.w = calls, window, b }, nil
}

func (d *CryptoVolume) saveState(w *stateWriter) {
	w.uvarint(1)
	w.bool(d.pairs != nil)
	if d.pairs == nil {
		return
	}
	w.int(d.Calls)
	w.duration(d.Window)
	saveFirstSeen(w, d.pairs, (*stateWriter).vpo, hashVPO, cmpVPO)
	saveBurst(w, d.w, (*stateWriter).vpo, hashVPO, cmpVPO)
}

func (d *CryptoVolume) loadState(r *stateReader) (func(), error) {
	r.version(1)
	if !r.bool() {
		return func() { d.pairs, d.w = nil, nil }, r.err
	}
	calls := setting(r, "Calls", d.Calls, r.int())
	window := setting(r, "Window", d.Window, r.duration())
	pairs := loadFirstSeen(r, (*stateReader).vpo)
	b := loadBurst(r, (*stateReader).vpo)
	if r.err == nil && (pairs == nil || b == nil) {
		r.fail("incomplete")
	}
	if r.err != nil {
		return nil, r.err
	}
	return func() { d.Calls, d.Window, d.pairs, d.w = calls, window, pairs, b }, nil
}

func (d *CrossProvider) saveState(w *stateWriter) {
	w.uvarint(1)
	w.bool(d.known != nil)
	if d.known == nil {
		return
	}
	w.duration(d.Window)
	saveFirstSeen(w, d.known, (*stateWriter).famNet, hashFamNet, cmpFamNet)
	ips := sortedKeys(d.recent, hashOneAddr, netip.Addr.Compare)
	w.count(len(ips))
	for _, ip := range ips {
		x := d.recent[ip]
		w.addr(ip)
		w.str(x.family)
		w.vault(x.vault)
		w.time(x.t)
	}
}

func (d *CrossProvider) loadState(r *stateReader) (func(), error) {
	r.version(1)
	if !r.bool() {
		return func() { d.known, d.recent = nil, nil }, r.err
	}
	window := setting(r, "Window", d.Window, r.duration())
	known := loadFirstSeen(r, (*stateReader).famNet)
	if r.err == nil && known == nil {
		r.fail("incomplete")
	}
	n := r.count()
	recent := make(map[netip.Addr]recentRead, n)
	for range n {
		ip := r.addr()
		recent[ip] = recentRead{family: r.str(), vault: r.vault(), t: r.time()}
	}
	if r.err != nil {
		return nil, r.err
	}
	return func() { d.Window, d.known, d.recent = window, known, recent }, nil
}

func (d *ManyVaults) saveState(w *stateWriter) {
	w.uvarint(2)
	w.bool(d.ok != nil)
	if d.ok == nil {
		return
	}
	w.int(d.MinVaults)
	w.duration(d.Window)
	d.ok.save(w)
	d.no.save(w)
}

func (d *ManyVaults) loadState(r *stateReader) (func(), error) {
	r.version(2)
	if !r.bool() {
		return func() { d.ok, d.no = nil, nil }, r.err
	}
	minVaults := setting(r, "MinVaults", d.MinVaults, r.int())
	window := setting(r, "Window", d.Window, r.duration())
	ok, no := loadVaultSpread(r), loadVaultSpread(r)
	if r.err != nil {
		return nil, r.err
	}
	return func() { d.MinVaults, d.Window, d.ok, d.no = minVaults, window, ok, no }, nil
}

func (s *vaultSpread) save(w *stateWriter) {
	w.duration(s.window)
	w.int(s.min)
	ps := sortedKeys(s.m, hashStr, cmpString)
	w.count(len(ps))
	for _, p := range ps {
		sp := s.m[p]
		w.str(p)
		w.time(sp.first)
		w.int(sp.peak)
		w.int(sp.n)
		w.int(sp.fresh)
		w.time(sp.until)
		ids := sortedKeys(sp.vaults, hashStr, cmpString)
		w.count(len(ids))
		for _, id := range ids {
			w.str(id)
			w.vault(sp.vaults[id].v)
			w.time(sp.vaults[id].t)
		}
		ids = sortedKeys(sp.known, hashStr, cmpString)
		w.count(len(ids))
		for _, id := range ids {
			w.str(id)
			w.time(sp.known[id])
		}
	}
}

func loadVaultSpread(r *stateReader) *vaultSpread {
	s := &vaultSpread{window: r.duration(), min: r.int()}
	n := r.count()
	s.m = make(map[string]*spread, n)
	for range n {
		p := r.str()
		sp := &spread{first: r.time(), peak: r.int(), n: r.int(), fresh: r.int(), until: r.time()}
		nv := r.count()
		sp.vaults = make(map[string]*spreadVault, nv)
		for range nv {
			id := r.str()
			sp.vaults[id] = &spreadVault{v: r.vault(), t: r.time()}
		}
		nk := r.count()
		sp.known = make(map[string]time.Time, nk)
		for range nk {
			id := r.str()
			sp.known[id] = r.time()
		}
		if r.err != nil {
			return nil
		}
		s.m[p] = sp
	}
	return s
}

func (d *UnusualUserDenied) saveState(w *stateWriter) {
	w.uvarint(1)
	saveFirstSeen(w, d.used, (*stateWriter).vp, hashVP, cmpVP)
}

func (d *UnusualUserDenied) loadState(r *stateReader) (func(), error) {
	r.version(1)
	used := loadFirstSeen(r, (*stateReader).vp)
	if r.err != nil {
		return nil, r.err
	}
	return func() { d.used = used }, nil
}

func (d *PolicyChangeThenGet) saveState(w *stateWriter) {
	w.uvarint(2)
	w.bool(d.changes != nil)
	if d.changes == nil {
		return
	}
	w.duration(d.Window)
	ps := sortedKeys(d.changes, hashStr, cmpString)
	w.count(len(ps))
	for _, p := range ps {
		ch := d.changes[p]
		w.str(p)
		w.time(ch.t)
		w.vault(ch.vault)
		w.str(ch.op)
		w.bool(ch.first != nil)
		if ch.first != nil {
			w.json(ch.first)
		}
	}
	saveFirstSeen(w, d.objs, (*stateWriter).vpo, hashVPO, cmpVPO)
}

func (d *PolicyChangeThenGet) loadState(r *stateReader) (func(), error) {
	r.version(2)
	if !r.bool() {
		return func() { d.changes, d.objs = nil, nil }, r.err
	}
	window := setting(r, "Window", d.Window, r.duration())
	n := r.count()
	changes := make(map[string]policyChange, n)
	for range n {
		p := r.str()
		ch := policyChange{t: r.time(), vault: r.vault(), op: r.str()}
		if r.bool() {
			ch.first = &Prior{}
			r.json(ch.first)
		}
		changes[p] = ch
	}
	objs := loadFirstSeen(r, (*stateReader).vpo)
	if r.err == nil && objs == nil {
		r.fail("incomplete")
	}
	if r.err != nil {
		return nil, r.err
	}
	return func() { d.Window, d.changes, d.objs = window, changes, objs }, nil
}

func (d *ListThenGet) saveState(w *stateWriter) {
	w.uvarint(1)
	w.bool(d.runs != nil)
	if d.runs == nil {
		return
	}
	w.int(d.MinReads)
	w.duration(d.Window)
	keys := sortedKeys(d.runs, hashVP, cmpVP)
	w.count(len(keys))
	for _, k := range keys {
		run := d.runs[k]
		w.vp(k)
		w.time(run.t)
		w.bool(run.alerted)
		objs := sortedKeys(run.objects, hashStr, cmpString)
		w.count(len(objs))
		for _, o := range objs {
			w.str(o)
			w.bool(run.objects[o])
		}
	}
	keys = sortedKeys(d.peak, hashVP, cmpVP)
	w.count(len(keys))
	for _, k := range keys {
		w.vp(k)
		w.int(d.peak[k])
	}
}

func (d *ListThenGet) loadState(r *stateReader) (func(), error) {
	r.version(1)
	if !r.bool() {
		return func() { d.runs, d.peak = nil, nil }, r.err
	}
	minReads := setting(r, "MinReads", d.MinReads, r.int())
	window := setting(r, "Window", d.Window, r.duration())
	n := r.count()
	runs := make(map[vp]*listRun, n)
	for range n {
		k := r.vp()
		run := &listRun{t: r.time(), alerted: r.bool()}
		no := r.count()
		run.objects = make(map[string]bool, no)
		for range no {
			o := r.str()
			run.objects[o] = r.bool()
		}
		runs[k] = run
	}
	n = r.count()
	peak := make(map[vp]int, n)
	for range n {
		k := r.vp()
		peak[k] = r.int()
	}
	if r.err != nil {
		return nil, r.err
	}
	return func() { d.MinReads, d.Window, d.runs, d.peak = minReads, window, runs, peak }, nil
}

func (d *Newcomers) saveState(w *stateWriter) {
	w.uvarint(1)
	w.bool(d.grants != nil)
	if d.grants == nil {
		return
	}
	ids := sortedKeys(d.grants, hashStr, cmpString)
	w.count(len(ids))
	for _, id := range ids {
		g := d.grants[id]
		w.str(id)
		w.time(g.t)
		w.str(g.who)
	}
	saveSetMap(w, d.vaultUsers)
	saveSetMap(w, d.userVaults)
	saveFirstSeen(w, d.people, (*stateWriter).str, hashStr, cmpString)
}

func (d *Newcomers) loadState(r *stateReader) (func(), error) {
	r.version(1)
	if !r.bool() {
		return func() { d.grants, d.vaultUsers, d.userVaults, d.people = nil, nil, nil, nil }, r.err
	}
	n := r.count()
	grants := make(map[string]grant, n)
	for range n {
		id := r.str()
		grants[id] = grant{t: r.time(), who: r.str()}
	}
	vaultUsers, userVaults := loadSetMap(r), loadSetMap(r)
	people := loadFirstSeen(r, (*stateReader).str)
	if r.err == nil && people == nil {
		r.fail("incomplete")
	}
	if r.err != nil {
		return nil, r.err
	}
	return func() {
		d.grants, d.vaultUsers, d.userVaults, d.people, d.near = grants, vaultUsers, userVaults, people, nearMemo{}
	}, nil
}

// saveSetMap writes a map of string sets (map[string]bool whose values
// are all true).
func saveSetMap(w *stateWriter, m map[string]map[string]bool) {
	keys := sortedKeys(m, hashStr, cmpString)
	w.count(len(keys))
	for _, k := range keys {
		w.str(k)
		set := sortedKeys(m[k], hashStr, cmpString)
		w.count(len(set))
		for _, x := range set {
			w.str(x)
			w.bool(m[k][x])
		}
	}
}

func loadSetMap(r *stateReader) map[string]map[string]bool {
	n := r.count()
	m := make(map[string]map[string]bool, n)
	for range n {
		k := r.str()
		ns := r.count()
		set := make(map[string]bool, ns)
		for range ns {
			x := r.str()
			set[x] = r.bool()
		}
		m[k] = set
	}
	return m
}

func (d *OperationPattern) saveState(w *stateWriter) {
	w.uvarint(1)
	saveFirstSeen(w, d.classes, (*stateWriter).vpc, hashVPC, cmpVPC)
}

func (d *OperationPattern) loadState(r *stateReader) (func(), error) {
	r.version(1)
	classes := loadFirstSeen(r, (*stateReader).vpc)
	if r.err != nil {
		return nil, r.err
	}
	return func() { d.classes = classes }, nil
}

func (d *HighVolume) saveState(w *stateWriter) {
	w.uvarint(3)
	w.bool(d.m != nil)
	if d.m == nil {
		return
	}
	w.int(d.MinCalls)
	w.int(d.VaultMinCalls)
	w.uvarint(math.Float64bits(d.Factor))
	w.count(len(d.m))
	for k, v := range sorted(d.m, hashVP, cmpVP) {
		w.vp(k)
		v.save(w)
	}
	ids := sortedKeys(d.vaults, hashStr, cmpString)
	w.count(len(ids))
	for _, id := range ids {
		v := d.vaults[id]
		w.str(id)
		v.volume.save(w)
		w.int(v.people)
		callers := sortedKeys(v.callers, hashStr, cmpString)
		w.count(len(callers))
		for _, c := range callers {
			w.str(c)
			w.int(v.callers[c])
		}
	}
}

func (d *HighVolume) loadState(r *stateReader) (func(), error) {
	r.version(3)
	if !r.bool() {
		return func() {
			d.m, d.vaults, d.lastPair, d.lastVault = nil, nil, lastEntry[vp, volume]{}, lastEntry[string, vaultVolume]{}
		}, r.err
	}
	minCalls := setting(r, "MinCalls", d.MinCalls, r.int())
	vaultMinCalls := setting(r, "VaultMinCalls", d.VaultMinCalls, r.int())
	factor := setting(r, "Factor", d.Factor, math.Float64frombits(r.uvarint()))
	n := r.count()
	m := make(map[vp]*volume, n)
	for range n {
		k := r.vp()
		m[k] = loadVolume(r)
	}
	n = r.count()
	vaults := make(map[string]*vaultVolume, n)
	for range n {
		id := r.str()
		v := &vaultVolume{volume: *loadVolume(r), people: 0}
		v.people = r.int()
		nc := r.count()
		v.callers = make(map[string]int, nc)
		for range nc {
			c := r.str()
			v.callers[c] = r.int()
		}
		vaults[id] = v
	}
	if r.err != nil {
		return nil, r.err
	}
	return func() {
		d.MinCalls, d.VaultMinCalls, d.Factor, d.m, d.vaults = minCalls, vaultMinCalls, factor, m, vaults
		d.lastPair, d.lastVault = lastEntry[vp, volume]{}, lastEntry[string, vaultVolume]{}
	}, nil
}

// save writes a volume profile: its hours of the week sparsely, most are
// zero.
func (v *volume) save(w *stateWriter) {
	w.time(v.hour)
	w.int(v.n)
	w.int(v.prev)
	w.int(v.peak)
	w.time(v.first)
	w.bool(v.alerted)
	w.int(v.held)
	w.time(v.heldHour)
	w.bool(v.week != nil)
	if v.week == nil {
		return
	}
	n := 0
	for _, x := range v.week {
		if x != 0 {
			n++
		}
	}
	w.count(n)
	for h, x := range v.week {
		if x != 0 {
			w.uvarint(uint64(h))
			w.uvarint(uint64(x))
		}
	}
}

func loadVolume(r *stateReader) *volume {
	v := &volume{hour: r.time(), n: r.int(), prev: r.int(), peak: r.int(), first: r.time(), alerted: r.bool(), held: r.int(), heldHour: r.time()}
	if !r.bool() {
		return v
	}
	v.week = new([hoursPerWeek]uint32)
	n := r.count()
	for range n {
		h, x := r.uvarint(), r.uvarint()
		if h >= hoursPerWeek || x > math.MaxUint32 {
			r.fail("invalid hour of the week %d: %d", h, x)
			break
		}
		v.week[h] = uint32(x)
	}
	return v
}

func (d *UnusualIP) saveState(w *stateWriter) {
	w.uvarint(2)
	w.bool(d.pairs != nil)
	if d.pairs == nil {
		return
	}
	w.count(len(d.pairs))
	for k, p := range sorted(d.pairs, hashVP, cmpVP) {
		w.vp(k)
		w.count(len(p.nets))
		for _, n := range p.nets {
			w.prefix(n)
		}
		w.uvarint(uint64(p.kinds))
		w.bool(p.pending != nil)
		if p.pending != nil {
			w.str(p.pending.label)
			w.bool(p.pending.byDeeds)
			w.json(&p.pending.prior)
		}
	}
}

func (d *UnusualIP) loadState(r *stateReader) (func(), error) {
	r.version(2)
	if !r.bool() {
		return func() { d.pairs, d.lastPair = nil, lastEntry[vp, netProfile]{} }, r.err
	}
	n := r.count()
	pairs := make(map[vp]*netProfile, n)
	for range n {
		k := r.vp()
		p := &netProfile{}
		if nn := r.count(); nn > 0 {
			p.nets = make([]netip.Prefix, nn)
			for i := range p.nets {
				p.nets[i] = r.prefix()
			}
		}
		kinds := r.uvarint()
		if kinds > math.MaxUint8 {
			r.fail("invalid network kinds %d", kinds)
		}
		p.kinds = uint8(kinds)
		if r.bool() {
			p.pending = &pendingNet{label: r.str(), byDeeds: r.bool()}
			r.json(&p.pending.prior)
		}
		if r.err != nil {
			return nil, r.err
		}
		pairs[k] = p
	}
	return func() { d.pairs, d.lastPair = pairs, lastEntry[vp, netProfile]{} }, nil
}

func (d *UserAppPair) saveState(w *stateWriter) {
	w.uvarint(1)
	saveFirstSeen(w, d.pairs, (*stateWriter).vpo, hashVPO, cmpVPO)
	saveFirstSeen(w, d.apps, (*stateWriter).vp, hashVP, cmpVP)
	saveFirstSeen(w, d.users, (*stateWriter).vp, hashVP, cmpVP)
}

func (d *UserAppPair) loadState(r *stateReader) (func(), error) {
	r.version(1)
	pairs := loadFirstSeen(r, (*stateReader).vpo)
	apps := loadFirstSeen(r, (*stateReader).vp)
	users := loadFirstSeen(r, (*stateReader).vp)
	if r.err == nil && ((pairs == nil) != (apps == nil) || (pairs == nil) != (users == nil)) {
		r.fail("incomplete")
	}
	if r.err != nil {
		return nil, r.err
	}
	return func() { d.pairs, d.apps, d.users = pairs, apps, users }, nil
}

// Compile-time checks: the detectors with state implement stateful.
var (
	_ stateful = (*DestructiveBurst)(nil)
	_ stateful = (*CredentialProbing)(nil)
	_ stateful = (*CryptoVolume)(nil)
	_ stateful = (*CrossProvider)(nil)
	_ stateful = (*ManyVaults)(nil)
	_ stateful = (*UnusualUserDenied)(nil)
	_ stateful = (*PolicyChangeThenGet)(nil)
	_ stateful = (*ListThenGet)(nil)
	_ stateful = (*Newcomers)(nil)
	_ stateful = (*OperationPattern)(nil)
	_ stateful = (*HighVolume)(nil)
	_ stateful = (*UnusualIP)(nil)
	_ stateful = (*UserAppPair)(nil)
)
